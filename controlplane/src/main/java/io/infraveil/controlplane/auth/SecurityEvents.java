package io.infraveil.controlplane.auth;

import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.controlplane.store.SecurityEventStore.SecurityEventRecord;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records security events durably and tells listeners (incidents, watchers) at once. Every
 * occurrence reaches the listeners, with the count of its minute's row, so rules that count
 * refusals see each one while history and watchers can keep only the first of a row.
 */
@Singleton
public final class SecurityEvents {

  private static final Logger LOG = LoggerFactory.getLogger(SecurityEvents.class);

  private final SecurityEventStore store;
  private final Clock clock;
  private final List<Consumer<SecurityEventRecord>> listeners = new CopyOnWriteArrayList<>();

  public SecurityEvents(SecurityEventStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  public void record(String kind, String identity, String method, String message, String peer) {
    SecurityEventRecord event = new SecurityEventRecord(clock.instant(), kind, identity, method, message, peer);
    int occurrences = 1;
    try {
      occurrences = store.record(event);
    } catch (RuntimeException e) {
      LOG.error("cannot store security event kind={}: {}", kind, e.getMessage());
    }
    if (occurrences == 1) {
      LOG.warn("security_event kind={} identity={} method={} peer={} message=\"{}\"",
          kind, identity, method, peer, message);
    } else {
      // Repeats within the minute are counted on the first one's row; the log says so once.
      LOG.debug("security_event_repeat kind={} identity={} occurrences={}", kind, identity, occurrences);
    }
    SecurityEventRecord counted = event.counted(occurrences);
    listeners.forEach(listener -> listener.accept(counted));
  }

  public void addListener(Consumer<SecurityEventRecord> listener) {
    listeners.add(listener);
  }

  public List<SecurityEventRecord> recent(int limit) {
    return store.recent(limit);
  }
}
