package io.infraveil.controlplane.history;

import io.infraveil.controlplane.ops.OperationsSettings;
import io.infraveil.controlplane.replica.Leadership;
import jakarta.annotation.PostConstruct;
import io.micronaut.core.annotation.Nullable;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes history in batches: rows queue up in memory and are flushed every second or as soon
 * as a batch is full, whichever comes first. The queue is bounded; when the store cannot keep
 * up the oldest rows are dropped and counted, so ingest never waits on the disk. Old history
 * is pruned on a timer after the retention period, by the leading replica only (every replica
 * writes its own rows).
 */
@Singleton
public final class HistoryWriter {

  private static final Logger LOG = LoggerFactory.getLogger(HistoryWriter.class);
  private static final int QUEUE_CAPACITY = 200_000;
  private static final Duration PRUNE_EVERY = Duration.ofMinutes(10);

  private final HistoryStore store;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final Duration flushInterval;
  private final int batchSize;
  private final Duration retention;
  /** Null: prune on every timer round. */
  private final Leadership leadership;
  private final Object lock = new Object();
  /** Guarded by {@link #lock}. */
  private final Deque<HistoryRow> queue = new ArrayDeque<>();
  /** Guarded by {@link #lock}: a flush was asked for because a batch filled up. */
  private boolean flushRequested;

  /** Held for a whole flush: one writer at a time. */
  private final Object flushLock = new Object();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong written = new AtomicLong();

  /** A writer that prunes on its own timer whatever the leadership: one process alone (tests). */
  public HistoryWriter(HistoryStore store, OperationsSettings settings, Clock clock,
      ScheduledExecutorService scheduler) {
    this(store, settings, clock, scheduler, (Leadership) null);
  }

  @Inject
  public HistoryWriter(HistoryStore store, OperationsSettings settings, Clock clock,
      @Named("operations") ScheduledExecutorService scheduler, @Nullable Leadership leadership) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.flushInterval = settings.historyFlushInterval();
    this.batchSize = Math.max(1, settings.historyBatchSize());
    this.retention = settings.retention();
    this.leadership = leadership;
  }

  @PostConstruct
  void start() {
    long flushMillis = Math.max(10, flushInterval.toMillis());
    scheduler.scheduleWithFixedDelay(this::flushQuietly, flushMillis, flushMillis, TimeUnit.MILLISECONDS);
    // Pruning is not urgent: the first pass waits a full period, so it never races a start-up.
    scheduler.scheduleWithFixedDelay(this::pruneQuietly, PRUNE_EVERY.toSeconds(), PRUNE_EVERY.toSeconds(),
        TimeUnit.SECONDS);
  }

  /** Queues a row; never blocks. */
  public void enqueue(HistoryRow row) {
    Objects.requireNonNull(row, "row");
    boolean requestFlush = false;
    synchronized (lock) {
      queue.addLast(row);
      if (queue.size() > QUEUE_CAPACITY) {
        queue.removeFirst();
        dropped.incrementAndGet();
      }
      if (queue.size() >= batchSize && !flushRequested) {
        flushRequested = true;
        requestFlush = true;
      }
    }
    if (requestFlush) {
      try {
        scheduler.execute(this::flushQuietly);
      } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
        // The final flush at shutdown writes what is left.
      }
    }
  }

  /**
   * Writes everything queued, in batches; returns rows written. Flushes are serialized, so when
   * this returns nothing that was queued before the call is still in flight on another thread.
   */
  public int flush() {
    synchronized (flushLock) {
      return flushBatches();
    }
  }

  private int flushBatches() {
    int total = 0;
    while (true) {
      List<HistoryRow> batch = new ArrayList<>(batchSize);
      synchronized (lock) {
        while (batch.size() < batchSize && !queue.isEmpty()) {
          batch.add(queue.removeFirst());
        }
        if (queue.isEmpty()) {
          flushRequested = false;
        }
      }
      if (batch.isEmpty()) {
        return total;
      }
      try {
        store.write(batch);
      } catch (RuntimeException e) {
        synchronized (lock) {
          for (int i = batch.size() - 1; i >= 0; i--) {
            queue.addFirst(batch.get(i));
          }
          while (queue.size() > QUEUE_CAPACITY) {
            queue.removeFirst();
            dropped.incrementAndGet();
          }
        }
        throw e;
      }
      written.addAndGet(batch.size());
      total += batch.size();
    }
  }

  /** Prunes history older than the retention period; returns rows deleted. */
  public int prune() {
    return store.pruneBefore(clock.instant().minus(retention));
  }

  public int queued() {
    synchronized (lock) {
      return queue.size();
    }
  }

  /** How full the queue is, 0 to 1. */
  public double pressure() {
    return queued() / (double) QUEUE_CAPACITY;
  }

  public long dropped() {
    return dropped.get();
  }

  public long written() {
    return written.get();
  }

  @PreDestroy
  void close() {
    flushQuietly();
  }

  private void flushQuietly() {
    try {
      flush();
    } catch (RuntimeException e) {
      LOG.error("history flush failed, rows stay queued for the next try: {}", e.getMessage());
    }
  }

  private void pruneQuietly() {
    Runnable round = () -> {
      try {
        int deleted = prune();
        if (deleted > 0) {
          LOG.info("history_pruned rows={} retention={}", deleted, retention);
        }
      } catch (RuntimeException e) {
        LOG.error("history prune failed: {}", e.getMessage());
      }
    };
    if (leadership == null) {
      round.run();
    } else {
      leadership.runIfLeader(Leadership.HISTORY_PRUNE, round); // one replica prunes for all
    }
  }
}
