package io.infraveil.controlplane.sync;

import io.infraveil.controlplane.store.HostStore;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The revisions hosts acknowledge on their Sync streams, written in batches: after a fan-out
 * thousands of acks arrive within a second, and one UPDATE each on the gRPC threads would hold a
 * database connection per ack. Each host's highest ack is kept in memory and all are written in
 * one JDBC batch every {@link #INTERVAL} (the acked revision is shown in status, nothing waits
 * on it).
 */
@Singleton
public final class AckBatches {

  private static final Logger LOG = LoggerFactory.getLogger(AckBatches.class);

  /** How often pending acks are written. */
  static final Duration INTERVAL = Duration.ofMillis(200);

  private final HostStore hosts;
  private final Map<String, Long> pending = new ConcurrentHashMap<>();

  // "replication": the replica package's scheduler, whose thread does the other batched writes.
  AckBatches(HostStore hosts, @Named("replication") ScheduledExecutorService scheduler) {
    this.hosts = Objects.requireNonNull(hosts, "hosts");
    scheduler.scheduleWithFixedDelay(this::flushQuietly, INTERVAL.toMillis(), INTERVAL.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** Notes the host's ack; the highest revision of each host is written at the next flush. */
  public void acked(String host, long revision) {
    pending.merge(host, revision, Math::max);
  }

  /** Writes every pending ack now in one batch; returns how many hosts it wrote. */
  public int flush() {
    if (pending.isEmpty()) {
      return 0;
    }
    Map<String, Long> batch = new HashMap<>();
    for (String host : pending.keySet()) {
      Long revision = pending.remove(host);
      if (revision != null) {
        batch.put(host, revision);
      }
    }
    try {
      hosts.setAckedRevisions(batch);
    } catch (RuntimeException e) {
      batch.forEach(this::acked); // written at the next flush (the store only keeps the highest)
      throw e;
    }
    return batch.size();
  }

  private void flushQuietly() {
    try {
      flush();
    } catch (RuntimeException e) {
      LOG.warn("acks_not_written hosts={} cause=\"{}\"; retrying at the next flush", pending.size(), e.getMessage());
    }
  }

  @PreDestroy
  void close() {
    flushQuietly();
  }
}
