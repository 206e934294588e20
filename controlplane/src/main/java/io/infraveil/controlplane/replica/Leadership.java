package io.infraveil.controlplane.replica;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this replica leads: it holds the {@link LeaderLease}. Every replica tries to take or
 * renew the lease every renew interval; the holder leads until the lease would expire by its
 * own monotonic clock, counted from the moment it sent its last successful renewal (the
 * database's expiry is later than that, so two replicas never both believe they lead).
 *
 * <p>{@link #isLeader()} is computed from that deadline on every call, so leader work stops at
 * the instant the lease may have lapsed, even while a renewal hangs on an unreachable database.
 * Listeners hear the change soon after, from a checker that runs beside the renewals.
 */
public final class Leadership implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);

  /** Hears this replica gain and lose the lease; called in order, never concurrently. */
  public interface Listener {
    void gained(long term);

    void lost(long term, String why);
  }

  /** Work that runs on the leader only, by the name its rounds are counted under. */
  public static final String INCIDENT_RULES = "incident-rules";
  public static final String ROLLOUT_ROUNDS = "rollout-rounds";
  public static final String HISTORY_PRUNE = "history-prune";
  public static final List<String> LEADER_WORK = List.of(INCIDENT_RULES, ROLLOUT_ROUNDS, HISTORY_PRUNE);

  private final LeaderLease lease;
  private final java.util.Map<String, AtomicLong> rounds = new java.util.concurrent.ConcurrentHashMap<>();
  private final long ttlNanos;
  private final Duration renewEvery;
  private final LongSupplier nanoTime;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong gained = new AtomicLong();
  private final AtomicLong lost = new AtomicLong();
  private final Object lock = new Object();
  /** Guarded by {@link #lock}: the term held, 0 when none. */
  private long heldTerm;
  /** Guarded by {@link #lock}: until when (by {@link #nanoTime}) the held term is surely ours. */
  private long validUntil;
  /** Guarded by {@link #lock}. */
  private String name;
  /** Guarded by {@link #lock}. */
  private ScheduledExecutorService scheduler;
  /** Guarded by {@link #lock}: the last renewal failed with this (logged once per streak). */
  private String failing;
  private volatile long term;
  private volatile long termValidUntil;

  public Leadership(LeaderLease lease, Duration ttl, Duration renewEvery, LongSupplier nanoTime) {
    this.lease = Objects.requireNonNull(lease, "lease");
    // A tenth of the TTL in reserve: the replicas' clocks may run at slightly different rates.
    this.ttlNanos = ttl.toNanos() - ttl.toNanos() / 10;
    this.renewEvery = Objects.requireNonNull(renewEvery, "renewEvery");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  /** The term this replica leads in, or 0 when it does not lead (now). */
  public long term() {
    long t = term;
    return t != 0 && nanoTime.getAsLong() - termValidUntil < 0 ? t : 0;
  }

  public boolean isLeader() {
    return term() != 0;
  }

  /**
   * Runs one round of leader-only {@code work} when this replica leads now, and counts it;
   * answers whether it ran.
   */
  public boolean runIfLeader(String work, Runnable round) {
    if (!isLeader()) {
      return false;
    }
    rounds.computeIfAbsent(work, w -> new AtomicLong()).incrementAndGet();
    round.run();
    return true;
  }

  /** Rounds of {@code work} this replica ran as leader. */
  public long rounds(String work) {
    AtomicLong n = rounds.get(work);
    return n == null ? 0 : n.get();
  }

  /** Times this replica took the lease. */
  public long gainedCount() {
    return gained.get();
  }

  /** Times this replica lost (or gave up) the lease. */
  public long lostCount() {
    return lost.get();
  }

  /** The current holder by the database, if any (for views). */
  public Optional<LeaderLease.Holder> holder() {
    return lease.current();
  }

  /**
   * Starts taking part as {@code replicaName}: one attempt now (a lone control plane leads
   * when this returns), then one every renew interval. {@code soleProcess}: the database
   * admits this process only (an embedded H2 file), so the lease is taken at once even from
   * a holder that died without giving it up.
   */
  public void start(String replicaName, boolean soleProcess) {
    Objects.requireNonNull(replicaName, "replicaName");
    ScheduledExecutorService started = Executors.newScheduledThreadPool(2, runnable -> {
      Thread thread = new Thread(runnable, "infraveil-leadership");
      thread.setDaemon(true);
      return thread;
    });
    synchronized (lock) {
      if (scheduler != null) {
        throw new IllegalStateException("leadership already started as " + name);
      }
      name = replicaName;
      scheduler = started;
    }
    if (soleProcess) {
      takeOver();
    }
    attempt();
    long every = renewEvery.toMillis();
    started.scheduleWithFixedDelay(this::attempt, every, every, TimeUnit.MILLISECONDS);
    // The renewal may hang on a database that does not answer: the deadline is checked apart.
    long check = Math.max(20, Math.min(every / 4, 250));
    started.scheduleWithFixedDelay(this::expireIfDue, check, check, TimeUnit.MILLISECONDS);
  }

  /** Takes the lease whoever holds it (see {@link #start}); a failure leaves it to the attempts. */
  private void takeOver() {
    String holder;
    synchronized (lock) {
      holder = name;
    }
    try {
      long taken = lease.takeOver(holder);
      LOG.info("leader_lease_taken_over replica={} term={} (the database admits this process only)", holder, taken);
    } catch (RuntimeException e) {
      LOG.warn("leader_lease_unreachable replica={} error={}", holder, e.getMessage());
    }
  }

  /** Takes part as {@code replicaName} without a schedule: tests call {@link #attempt} themselves. */
  void joinAs(String replicaName) {
    synchronized (lock) {
      name = Objects.requireNonNull(replicaName, "replicaName");
    }
  }

  /** One try to take or renew the lease. */
  void attempt() {
    String holder;
    synchronized (lock) {
      holder = name;
    }
    long sentAt = nanoTime.getAsLong();
    Optional<Long> taken;
    try {
      taken = lease.takeOrRenew(holder);
    } catch (RuntimeException e) {
      synchronized (lock) {
        if (!e.toString().equals(failing)) {
          failing = e.toString();
          LOG.warn("leader_lease_unreachable replica={} leading={} error={}", holder, heldTerm != 0, e.getMessage());
        }
      }
      expireIfDue();
      return;
    }
    synchronized (lock) {
      failing = null;
    }
    if (taken.isEmpty()) {
      lose("another replica holds the leader lease");
      return;
    }
    long newTerm = taken.get();
    long before;
    synchronized (lock) {
      before = heldTerm;
      if (before != 0 && before != newTerm) {
        // The lease lapsed and was taken again: whatever the old term did may be stale.
        heldTerm = 0;
      }
    }
    if (before != 0 && before != newTerm) {
      lost(before, "the lease lapsed before it was renewed (term " + before + " ended)");
    }
    synchronized (lock) {
      heldTerm = newTerm;
      validUntil = sentAt + ttlNanos;
      termValidUntil = validUntil;
      term = newTerm;
    }
    if (before != newTerm) {
      gained.incrementAndGet();
      LOG.info("leader_lease_gained replica={} term={}", holder, newTerm);
      listeners.forEach(l -> l.gained(newTerm));
    }
  }

  /** Drops the lease locally once its deadline passed without a renewal. */
  void expireIfDue() {
    long held;
    synchronized (lock) {
      if (heldTerm == 0 || nanoTime.getAsLong() - validUntil < 0) {
        return;
      }
      held = heldTerm;
      heldTerm = 0;
      term = 0;
    }
    lost(held, "the lease was not renewed in time (database unreachable or too slow)");
  }

  private void lose(String why) {
    long held;
    synchronized (lock) {
      held = heldTerm;
      heldTerm = 0;
      term = 0;
    }
    if (held != 0) {
      lost(held, why);
    }
  }

  private void lost(long held, String why) {
    lost.incrementAndGet();
    String holder;
    synchronized (lock) {
      holder = name;
    }
    LOG.warn("leader_lease_lost replica={} term={} why={}", holder, held, why);
    listeners.forEach(l -> l.lost(held, why));
  }

  /**
   * Stops renewing. With {@code release} the lease ends at once in the database, so another
   * replica leads at its next attempt; without, it runs out as if this replica had died.
   */
  void stop(boolean release) {
    ScheduledExecutorService running;
    String holder;
    synchronized (lock) {
      running = scheduler;
      holder = name;
      scheduler = null;
    }
    if (running == null) {
      return;
    }
    running.shutdownNow();
    try {
      running.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    boolean leading = isLeader();
    lose("this replica is stopping");
    if (release && leading) {
      try {
        lease.release(holder);
      } catch (RuntimeException e) {
        LOG.warn("leader_lease_release_failed replica={} error={}; it runs out on its own", holder, e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    stop(true);
  }
}
