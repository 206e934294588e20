package io.infraveil.controlplane.history;

import io.infraveil.controlplane.ops.Evidence;
import io.infraveil.controlplane.store.StoreException;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;

/**
 * History rows, written in JDBC batches inside one transaction (single-row inserts are
 * slow on H2), and pruned by age.
 */
@Singleton
public final class HistoryStore {

  private static final String INSERT_EVIDENCE = "INSERT INTO history (at, source, host_name, deployment, service, "
      + "identity, text) VALUES (?, ?, ?, ?, ?, ?, ?)";
  private static final String INSERT_TIMELINE = "INSERT INTO incident_timeline (incident_id, at, source, text) "
      + "VALUES (?, ?, ?, ?)";

  private final DataSource dataSource;

  public HistoryStore(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Writes the rows in one transaction. */
  public void write(List<HistoryRow> rows) {
    if (rows.isEmpty()) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement evidence = c.prepareStatement(INSERT_EVIDENCE);
          PreparedStatement timeline = c.prepareStatement(INSERT_TIMELINE)) {
        for (HistoryRow row : rows) {
          if (row instanceof HistoryRow.EvidenceRow e) {
            bindEvidence(evidence, e.evidence());
          } else if (row instanceof HistoryRow.TimelineRow t) {
            bindTimeline(timeline, t.incidentId(), t.evidence());
          } else {
            throw new AssertionError("unknown history row " + row);
          }
        }
        evidence.executeBatch();
        timeline.executeBatch();
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new StoreException("cannot write " + rows.size() + " history rows: " + e.getMessage(), e);
    }
  }

  /**
   * Deletes history and security events older than {@code cutoff}, incidents resolved before
   * it and event marks not updated since; returns rows deleted.
   */
  public int pruneBefore(Instant cutoff) {
    try (Connection c = dataSource.getConnection()) {
      int deleted = 0;
      Timestamp at = Timestamp.from(cutoff);
      try (PreparedStatement s = c.prepareStatement("DELETE FROM history WHERE at < ?")) {
        s.setTimestamp(1, at);
        deleted += s.executeUpdate();
      }
      try (PreparedStatement s = c.prepareStatement("DELETE FROM incident_timeline WHERE incident_id IN "
          + "(SELECT id FROM incidents WHERE resolved_at IS NOT NULL AND resolved_at < ?)")) {
        s.setTimestamp(1, at);
        deleted += s.executeUpdate();
      }
      try (PreparedStatement s = c.prepareStatement(
          "DELETE FROM incidents WHERE resolved_at IS NOT NULL AND resolved_at < ?")) {
        s.setTimestamp(1, at);
        deleted += s.executeUpdate();
      }
      // Security events share the retention bound: a row goes once its latest occurrence is old.
      try (PreparedStatement s = c.prepareStatement(
          "DELETE FROM security_events WHERE COALESCE(last_at, at) < ?")) {
        s.setTimestamp(1, at);
        deleted += s.executeUpdate();
      }
      // Marks of agent and launcher processes not heard from within the retention (V6).
      try (PreparedStatement s = c.prepareStatement("DELETE FROM host_event_marks WHERE seen_at < ?")) {
        s.setTimestamp(1, at);
        deleted += s.executeUpdate();
      }
      return deleted;
    } catch (SQLException e) {
      throw new StoreException("cannot prune history before " + cutoff + ": " + e.getMessage(), e);
    }
  }

  /** Rows in the history table (for tests and metrics). */
  public long count() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM history");
        var r = s.executeQuery()) {
      r.next();
      return r.getLong(1);
    } catch (SQLException e) {
      throw new StoreException("cannot count history rows: " + e.getMessage(), e);
    }
  }

  private static void bindEvidence(PreparedStatement s, Evidence e) throws SQLException {
    s.setTimestamp(1, Timestamp.from(e.at()));
    s.setString(2, sourceName(e));
    s.setString(3, truncate(e.host(), 64));
    s.setString(4, truncate(e.deployment(), 64));
    s.setString(5, truncate(e.service(), 100));
    s.setString(6, truncate(e.identity(), 300));
    s.setString(7, truncate(e.text(), 4000));
    s.addBatch();
  }

  private static void bindTimeline(PreparedStatement s, String incidentId, Evidence e) throws SQLException {
    s.setString(1, incidentId);
    s.setTimestamp(2, Timestamp.from(e.at()));
    s.setString(3, sourceName(e));
    s.setString(4, truncate(e.text(), 4000));
    s.addBatch();
  }

  static String sourceName(Evidence e) {
    return e.source().name().substring("EVIDENCE_SOURCE_".length());
  }

  static String truncate(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max);
  }
}
