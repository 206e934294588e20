package io.infraveil.agent.metrics;

import io.infraveil.agent.AgentSnapshot;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Writes an agent's metrics file every interval (the heartbeat interval) and soon after every
 * change of the supervisor's state; changes that come in a burst are written once. A failed
 * write is logged and tried again next time: metrics never hold up supervision.
 */
public final class AgentMetricsWriter implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(AgentMetricsWriter.class.getName());

  private final AgentMetrics metrics;
  private final Supplier<AgentSnapshot> snapshots;
  private final ScheduledExecutorService scheduler;
  private final Duration interval;
  private final AtomicBoolean pending = new AtomicBoolean();
  private volatile ScheduledFuture<?> periodic;

  public AgentMetricsWriter(AgentMetrics metrics, Supplier<AgentSnapshot> snapshots,
      ScheduledExecutorService scheduler, Duration interval) {
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.snapshots = Objects.requireNonNull(snapshots, "snapshots");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.interval = Objects.requireNonNull(interval, "interval");
  }

  /** Writes now and then every interval. */
  public void start() {
    long every = Math.max(1, interval.toMillis());
    periodic = scheduler.scheduleWithFixedDelay(this::writeNow, 0, every, TimeUnit.MILLISECONDS);
  }

  /** The supervisor's state changed: write soon (once for a burst of changes). */
  public void changed(AgentSnapshot snapshot) {
    metrics.update(snapshot);
    if (pending.compareAndSet(false, true)) {
      try {
        scheduler.execute(this::writeNow);
      } catch (java.util.concurrent.RejectedExecutionException closing) {
        pending.set(false);
      }
    }
  }

  /** Takes the latest snapshot and writes the file; public for tests. */
  public void writeNow() {
    pending.set(false);
    try {
      metrics.update(snapshots.get());
      metrics.write();
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot write " + metrics.file() + ": " + e);
    }
  }

  @Override
  public void close() {
    ScheduledFuture<?> running = periodic;
    if (running != null) {
      running.cancel(false);
    }
  }
}
