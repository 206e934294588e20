package io.infraveil.controlplane.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.Jdbc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The leader lease over one real database: one holder at a time whatever the timing,
 * renewals keep the term, a lease left to run out or given up moves on, and a leader whose
 * renewals fail stops leading at its own deadline (an injected clock) however long the
 * database takes to answer. Each engine runs it through a subclass.
 */
abstract class LeadershipContract {

  static final Duration TTL = Duration.ofMillis(800);
  static final Duration RENEW = Duration.ofMillis(200);

  final AtomicLong nanos = new AtomicLong();
  final List<String> transitions = new CopyOnWriteArrayList<>();

  /** A new data source on the shared, migrated database; its own connections each time. */
  abstract DataSource dataSource();

  /** Points {@code source} somewhere nothing answers, as a database lost to the network. */
  abstract void breakConnection(DataSource source);

  /** Runs SQL on the shared database. */
  final Jdbc jdbc() {
    return new Jdbc(dataSource());
  }

  @BeforeEach
  void freeLease() {
    jdbc().update("free the lease", "UPDATE control_plane_lease SET holder = NULL,"
        + " expires_at = TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00:00'", s -> { });
  }

  LeaderLease lease(Duration ttl) {
    return new LeaderLease(jdbc(), ttl);
  }

  Leadership replica(String name, LeaderLease lease) {
    Leadership leadership = new Leadership(lease, TTL, RENEW, nanos::get);
    leadership.joinAs(name);
    leadership.addListener(new Leadership.Listener() {
      @Override
      public void gained(long term) {
        transitions.add(name + " gained " + term);
      }

      @Override
      public void lost(long term, String why) {
        transitions.add(name + " lost " + term + ": " + why);
      }
    });
    return leadership;
  }

  // Of three replicas trying in turn, the first leads and the others take nothing.
  @Test
  void exactlyOneOfThreeLeads() {
    Leadership a = replica("a", lease(TTL));
    Leadership b = replica("b", lease(TTL));
    Leadership c = replica("c", lease(TTL));
    a.attempt();
    b.attempt();
    c.attempt();
    assertTrue(a.isLeader());
    assertFalse(b.isLeader());
    assertFalse(c.isLeader());
    long term = a.term();
    a.attempt();
    b.attempt();
    assertEquals(term, a.term(), "a renewal keeps the term");
    assertFalse(b.isLeader());
    assertEquals(List.of("a gained " + term), transitions);
    assertEquals("a", a.holder().orElseThrow().name());
    assertTrue(a.holder().orElseThrow().live());
  }

  // A leader that stops renewing (as if killed) leads no more at once, and another replica
  // takes the lease with a new term once the database's clock says it expired.
  @Test
  void aLeaseLeftToRunOutMovesToAnotherReplicaWithANewTerm() throws Exception {
    Leadership a = replica("a", lease(TTL));
    Leadership b = replica("b", lease(TTL));
    a.attempt();
    long first = a.term();
    b.attempt();
    assertFalse(b.isLeader(), "a's lease is live");
    long stoppedAt = System.nanoTime();
    while (!b.isLeader()) {
      assertTrue(System.nanoTime() - stoppedAt < TTL.multipliedBy(4).toNanos(),
          "b did not take a lease that a stopped renewing " + TTL + " ago");
      Thread.sleep(RENEW.toMillis() / 4);
      b.attempt();
    }
    assertEquals(first + 1, b.term());
    // a has not renewed; by its own clock (still at 0) it would lead, but the database says no.
    a.attempt();
    assertFalse(a.isLeader());
    assertEquals(List.of("a gained " + first, "b gained " + (first + 1),
        "a lost " + first + ": another replica holds the leader lease"), transitions);
  }

  // Giving the lease up (a replica that stops) lets the next attempt of another take it.
  @Test
  void aReleasedLeaseIsTakenAtTheNextAttempt() {
    Leadership a = replica("a", lease(Duration.ofMinutes(5)));
    Leadership b = replica("b", lease(Duration.ofMinutes(5)));
    a.attempt();
    b.attempt();
    assertFalse(b.isLeader());
    new LeaderLease(jdbc(), TTL).release("a");
    b.attempt();
    assertTrue(b.isLeader());
  }

  // With the database unreachable, the leader keeps leading until its own deadline (0.9 TTL
  // after it sent its last successful renewal), not a moment longer, and its listeners hear it.
  @Test
  void aLeaderThatCannotRenewStopsAtItsDeadline() {
    DataSource source = dataSource();
    Leadership a = replica("a", new LeaderLease(new Jdbc(source), TTL));
    a.attempt();
    long term = a.term();
    assertTrue(a.isLeader());
    breakConnection(source);
    nanos.addAndGet(TTL.toNanos() / 2);
    a.attempt();
    a.expireIfDue();
    assertTrue(a.isLeader(), "half the TTL after the last renewal the lease is still ours");
    nanos.addAndGet(TTL.toNanos() * 4 / 10 + 1);
    assertFalse(a.isLeader(), "at 0.9 TTL leader work must stop, with no call needed");
    assertEquals(List.of("a gained " + term), transitions, "listeners hear it from the checker");
    a.expireIfDue();
    assertEquals(List.of("a gained " + term,
        "a lost " + term + ": the lease was not renewed in time (database unreachable or too slow)"), transitions);
    assertEquals(1, a.lostCount());
  }

  // Three replicas hammering the lease with a very short TTL: every term has exactly one holder,
  // whatever the interleaving of their compare-and-set statements.
  @Test
  void concurrentAttemptsNeverGiveOneTermTwoHolders() throws Exception {
    Map<Long, String> holderOfTerm = new ConcurrentHashMap<>();
    List<String> conflicts = new CopyOnWriteArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (String name : List.of("a", "b", "c")) {
      LeaderLease lease = lease(Duration.ofMillis(20));
      Thread thread = new Thread(() -> {
        try {
          go.await();
          int heldInARow = 0;
          for (int i = 0; i < 150; i++) {
            Optional<Long> term = lease.takeOrRenew(name);
            term.ifPresent(t -> {
              String before = holderOfTerm.putIfAbsent(t, name);
              if (before != null && !before.equals(name)) {
                conflicts.add("term " + t + " held by " + before + " and " + name);
              }
            });
            heldInARow = term.isPresent() ? heldInARow + 1 : 0;
            // A holder that renews in time keeps the lease for ever; pausing past the TTL now and
            // then lets it expire, so the others race for it while the old holder comes back.
            Thread.sleep(heldInARow % 5 == 0 && heldInARow > 0 ? 30 : 2);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      thread.start();
      threads.add(thread);
    }
    go.countDown();
    for (Thread thread : threads) {
      thread.join(60_000);
    }
    assertEquals(List.of(), conflicts);
    assertTrue(holderOfTerm.size() > 1, "the lease changed hands: " + holderOfTerm);
    assertNotEquals(1, holderOfTerm.values().stream().distinct().count(), "more than one replica held it");
  }

  // On a database only one process can open, a holder that is not this process is dead: the
  // lease is taken at once, with a new term, and the old holder finds it gone.
  @Test
  void aTakeOverNeedsNoExpiry() {
    Leadership a = replica("a", lease(Duration.ofMinutes(5)));
    a.attempt();
    long first = a.term();
    assertEquals(first + 1, lease(Duration.ofMinutes(5)).takeOver("b"));
    assertEquals("b", a.holder().orElseThrow().name());
    a.attempt();
    assertFalse(a.isLeader());
  }
}
