package io.infraveil.controlplane.rollout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.Engine;
import io.infraveil.controlplane.store.OnBothEngines;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** Rollouts and their hosts: ids from the database, progress, history; on H2 and PostgreSQL. */
class RolloutStoreTest {

  static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");
  static final Strategy STRATEGY = new Strategy(1, 1, Duration.ofSeconds(10), Duration.ofMinutes(5),
      false, true);

  static Rollout rollout(String deployment, long sequence, Rollout.Version revertTo) {
    return new Rollout(0, deployment, "DEPLOY", new Rollout.Version("a".repeat(64), sequence, null, "v" + sequence),
        sequence, revertTo, STRATEGY, Phase.RUNNING, false, 0, null, "spiffe://t/operator/alice", T0, null,
        List.of(RolloutHostEntry.pending("web-1", 0, new byte[] {1, 2}),
            RolloutHostEntry.pending("web-2", 1, null)));
  }

  @OnBothEngines
  void aRolloutGetsAnIdAndItsProgressAndHostsAreStored(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      RolloutStore store = new RolloutStore(db.jdbc());
      Rollout first = store.insert(rollout("web", 1, null));
      Rollout second = store.insert(rollout("web", 2,
          new Rollout.Version("b".repeat(64), 1, new byte[] {5, 6}, "v1")));
      Rollout other = store.insert(rollout("api", 1, null));
      assertTrue(first.id() > 0);
      assertTrue(second.id() > first.id(), "ids grow");
      assertTrue(other.id() > second.id());

      Rollout moved = second.withHost("web-1", h -> h.moved(1, true, T0.plusSeconds(1)));
      moved = moved.withHosts(List.of(moved.hosts().get(0))) // web-2 is no longer targeted
          .withBatch(1)
          .withPhase(Phase.SUCCEEDED, "done", T0.plusSeconds(60));
      store.update(moved);

      Rollout back = store.latest("web").orElseThrow();
      assertEquals(second.id(), back.id());
      assertEquals(Phase.SUCCEEDED, back.phase());
      assertEquals(1, back.batch());
      assertEquals("done", back.reason());
      assertEquals(T0.plusSeconds(60), back.finishedAt());
      assertEquals(STRATEGY, back.strategy());
      assertEquals("b".repeat(64), back.revertTo().sha256());
      assertArrayEquals(new byte[] {5, 6}, back.revertTo().signatures());
      assertEquals(List.of("web-1"), back.hosts().stream().map(RolloutHostEntry::host).toList(),
          "a host that left the rollout leaves its rows");
      RolloutHostEntry host = back.hosts().get(0);
      assertEquals(HostPhase.UPDATING, host.phase());
      assertTrue(host.canary());
      assertEquals(T0.plusSeconds(1), host.movedAt());
      assertNull(host.healthySince());
      assertArrayEquals(new byte[] {1, 2}, host.fromEntry());

      assertEquals(List.of(second.id(), first.id()),
          store.history("web", 10).stream().map(Rollout::id).toList());
      assertEquals(1, store.history("web", 1).size());
      assertEquals(List.of("api", "web"),
          store.latestPerDeployment().stream().map(Rollout::deployment).toList());
      assertNull(store.history("api", 1).get(0).revertTo());
    }
  }

  @OnBothEngines
  void aRolloutOfHundredsOfHostsIsStoredWholeAndInOrder(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      RolloutStore store = new RolloutStore(db.jdbc());
      List<RolloutHostEntry> hosts = new java.util.ArrayList<>();
      for (int i = 0; i < 451; i++) {
        RolloutHostEntry pending = RolloutHostEntry.pending(String.format("host-%04d", i), i,
            i % 2 == 0 ? new byte[] {(byte) i} : null);
        hosts.add(i % 3 == 0 ? pending.moved(1, i == 0, T0.plusSeconds(i)) : pending);
      }
      Rollout stored = store.insert(rollout("web", 1, null).withHosts(hosts));

      List<RolloutHostEntry> back = store.latest("web").orElseThrow().hosts();
      assertEquals(451, back.size());
      for (int i = 0; i < back.size(); i++) {
        RolloutHostEntry want = hosts.get(i);
        RolloutHostEntry got = back.get(i);
        assertEquals(want.host(), got.host());
        assertEquals(i, got.position());
        assertEquals(want.phase(), got.phase());
        assertEquals(want.batch(), got.batch());
        assertEquals(want.canary(), got.canary());
        assertEquals(want.movedAt(), got.movedAt());
        assertArrayEquals(want.fromEntry(), got.fromEntry());
      }
      assertTrue(stored.id() > 0);
    }
  }
}
