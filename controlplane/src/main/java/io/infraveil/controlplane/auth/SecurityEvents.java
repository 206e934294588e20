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

/** Records security events durably and tells listeners (incidents, watchers) at once. */
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
    LOG.warn("security_event kind={} identity={} method={} peer={} message=\"{}\"",
        kind, identity, method, peer, message);
    try {
      store.insert(event);
    } catch (RuntimeException e) {
      LOG.error("cannot store security event kind={}: {}", kind, e.getMessage());
    }
    listeners.forEach(listener -> listener.accept(event));
  }

  public void addListener(Consumer<SecurityEventRecord> listener) {
    listeners.add(listener);
  }

  public List<SecurityEventRecord> recent(int limit) {
    return store.recent(limit);
  }
}
