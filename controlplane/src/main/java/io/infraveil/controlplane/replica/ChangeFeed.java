package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.store.Jdbc;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Changes between replicas of one installation. A change that other replicas must act on is
 * appended to the {@code change_log} table when it commits; one reader thread per replica reads
 * the rows after the last it saw and hands each to the listeners of its kind, the replica that
 * made it included. On PostgreSQL a NOTIFY sent in the writing transaction wakes the readers at
 * commit (milliseconds); on every engine the log is also read every
 * {@code infraveil.replication.change-poll-interval}, which catches a missed notification and
 * is how H2 (one process) works with no notifications at all. Listeners run on the reader
 * thread, in log order, and must not block.
 */
@Singleton
public final class ChangeFeed implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ChangeFeed.class);
  private static final int PAGE = 500;
  /** How long an id missing below visible ones may still commit before it is given up. */
  static final Duration GAP_GRACE = Duration.ofSeconds(30);
  private static final Duration PRUNE_EVERY = Duration.ofMinutes(1);

  private final ChangeLog log;
  private final String replica;
  private final ReplicationSettings settings;
  private final Clock clock;
  private final Doorbell doorbell;
  private final Map<ChangeKind, List<Consumer<Change>>> listeners = new EnumMap<>(ChangeKind.class);
  private final AtomicLong delivered = new AtomicLong();
  private final Object lifecycle = new Object();
  private Thread reader;
  private volatile boolean running;

  public ChangeFeed(Jdbc jdbc, DataSource dataSource, ReplicaName replica, ReplicationSettings settings,
      Clock clock) {
    this.replica = replica.name();
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
    Engine engine = Engine.of(dataSource);
    this.log = new ChangeLog(jdbc, engine);
    this.doorbell = engine == Engine.POSTGRESQL
        ? new PostgresNotifications(dataSource, this.replica)
        : new LocalDoorbell();
    for (ChangeKind kind : ChangeKind.values()) {
      listeners.put(kind, new CopyOnWriteArrayList<>());
    }
  }

  /** This replica's name, the origin of the changes it publishes. */
  public String replica() {
    return replica;
  }

  /** Whether changes arrive by notification (PostgreSQL) or by polling alone. */
  public boolean notified() {
    return log.engine() == Engine.POSTGRESQL;
  }

  /** Records a change in a transaction of its own; every replica hears it once it commits. */
  public void publish(ChangeKind kind, String subject, String detail) {
    log.append(kind, subject, detail, replica, clock.instant());
    doorbell.ring();
  }

  /**
   * Records a change inside the caller's transaction, so it is heard exactly when what it
   * announces commits (and never when that rolls back). Call {@link #wake()} after the commit:
   * without notifications this process would otherwise hear it at the next poll.
   */
  public void publishWithin(Connection transaction, ChangeKind kind, String subject, String detail)
      throws SQLException {
    log.append(transaction, kind, subject, detail, replica, clock.instant());
  }

  /** {@link #publishWithin} for many changes of one kind: one batch of rows, one notification. */
  public void publishAllWithin(Connection transaction, ChangeKind kind, List<ChangeLog.Entry> entries)
      throws SQLException {
    log.appendAll(transaction, kind, entries, replica, clock.instant());
  }

  /** Reads the log now (after a commit made with {@link #publishWithin}). */
  public void wake() {
    doorbell.ring();
  }

  /** Hears every change of {@code kind} from the time the feed starts, from every replica. */
  public void subscribe(ChangeKind kind, Consumer<Change> listener) {
    listeners.get(kind).add(Objects.requireNonNull(listener, "listener"));
  }

  /** Changes handed to listeners since the start (for metrics and tests). */
  public long delivered() {
    return delivered.get();
  }

  /** Starts reading after the last change already in the log; the state before it is read at start. */
  public void start() {
    synchronized (lifecycle) {
      if (reader != null) {
        return;
      }
      ChangeCursor cursor = new ChangeCursor(log.lastId(), GAP_GRACE);
      running = true;
      reader = new Thread(() -> readLoop(cursor), "infraveil-change-feed");
      reader.setDaemon(true);
      reader.start();
    }
  }

  private void readLoop(ChangeCursor cursor) {
    Instant nextPrune = clock.instant().plus(PRUNE_EVERY);
    boolean failing = false;
    while (running) {
      try {
        // A gap below visible rows is re-read soon: its transaction is likely about to commit.
        Duration wait = cursor.waitingForGap() ? Duration.ofMillis(100) : settings.changePollInterval();
        doorbell.await(wait);
        if (!running) {
          return;
        }
        readNew(cursor);
        if (!clock.instant().isBefore(nextPrune)) {
          nextPrune = clock.instant().plus(PRUNE_EVERY);
          log.pruneBefore(clock.instant().minus(settings.changeRetention()));
        }
        if (failing) {
          LOG.info("change_feed_restored replica={}", replica);
          failing = false;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        if (!failing) {
          LOG.warn("change_feed_read_failed replica={} cause=\"{}\"; retrying every poll interval", replica,
              e.getMessage());
        }
        failing = true;
        sleepQuietly(settings.changePollInterval());
      }
    }
  }

  private void readNew(ChangeCursor cursor) {
    long after = cursor.floor();
    List<Change> page;
    do {
      page = log.after(after, PAGE);
      for (Change change : cursor.accept(page, clock.instant())) {
        deliver(change);
      }
      if (!page.isEmpty()) {
        after = page.get(page.size() - 1).id();
      }
    } while (page.size() == PAGE && running);
  }

  private void deliver(Change change) {
    delivered.incrementAndGet();
    if (change.kind() == ChangeKind.UNKNOWN) {
      LOG.warn("change_kind_unknown id={} subject={} origin={}: written by a newer replica; passed over"
          + " (upgrade this replica)", change.id(), change.subject(), change.origin());
      return;
    }
    for (Consumer<Change> listener : listeners.get(change.kind())) {
      try {
        listener.accept(change);
      } catch (RuntimeException e) {
        LOG.warn("change_listener_failed kind={} subject={} id={} cause=\"{}\"", change.kind(), change.subject(),
            change.id(), e.getMessage(), e);
      }
    }
  }

  private void sleepQuietly(Duration pause) {
    try {
      Thread.sleep(Math.max(1, pause.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  @Override
  @PreDestroy
  public void close() {
    Thread stopping;
    synchronized (lifecycle) {
      running = false;
      stopping = reader;
    }
    doorbell.close();
    if (stopping != null) {
      stopping.interrupt();
      try {
        stopping.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
