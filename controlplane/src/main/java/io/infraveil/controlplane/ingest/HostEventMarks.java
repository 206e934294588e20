package io.infraveil.controlplane.ingest;

import io.infraveil.controlplane.store.SqlDialect;
import io.infraveil.proto.v1.HostEvent;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells a host event seen for the first time from one re-sent. Agents and launchers stamp each
 * event with their process's instance id and a sequence that only grows, and re-send events
 * until a report carrying them is acknowledged; so the highest sequence seen per (host,
 * instance) is all it takes. Marks live in memory (a bounded cache) and in the
 * {@code host_event_marks} table, so a control plane restart does not let re-sent events in
 * twice ({@code HistoryStore} prunes marks with history). Events without an id (older hosts)
 * always pass.
 *
 * <p>When the table cannot be read or written the event passes: a duplicate row is better
 * than a lost crash or rejection.
 */
@Singleton
public final class HostEventMarks {

  private static final Logger LOG = LoggerFactory.getLogger(HostEventMarks.class);
  /** Live agent and launcher processes whose marks stay in memory. */
  private static final int CACHED_INSTANCES = 100_000;

  private final DataSource dataSource;
  private final Clock clock;
  /** Guarded by {@code this}: host + instance → highest sequence seen. */
  private final Map<String, Long> marks = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
      return size() > CACHED_INSTANCES;
    }
  };

  public HostEventMarks(DataSource dataSource, Clock clock) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** True when {@code event} from {@code host} was not seen before; records it as seen. */
  public synchronized boolean firstSeen(String host, HostEvent event) {
    if (event.getInstanceId().isEmpty() || event.getSequence() <= 0) {
      return true;
    }
    String key = host + "\n" + event.getInstanceId();
    Long mark = marks.get(key);
    if (mark == null) {
      mark = load(host, event.getInstanceId());
    }
    if (event.getSequence() <= mark) {
      marks.put(key, mark);
      return false;
    }
    marks.put(key, event.getSequence());
    save(host, event.getInstanceId(), event.getSequence());
    return true;
  }

  private long load(String host, String instance) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement("SELECT last_sequence FROM host_event_marks "
            + "WHERE host_name = ? AND instance_id = ?")) {
      s.setString(1, host);
      s.setString(2, instance);
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? r.getLong(1) : 0;
      }
    } catch (SQLException e) {
      LOG.warn("event_marks_unreadable host={} instance={} error=\"{}\"", host, instance,
          e.getMessage());
      return 0;
    }
  }

  private void save(String host, String instance, long sequence) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement(SqlDialect.of(c).upsert("host_event_marks",
            "host_name, instance_id", "host_name, instance_id, last_sequence, seen_at"))) {
      s.setString(1, host);
      s.setString(2, instance);
      s.setLong(3, sequence);
      s.setTimestamp(4, Timestamp.from(clock.instant()));
      s.executeUpdate();
    } catch (SQLException e) {
      LOG.warn("event_marks_unwritable host={} instance={} error=\"{}\"", host, instance,
          e.getMessage());
    }
  }
}
