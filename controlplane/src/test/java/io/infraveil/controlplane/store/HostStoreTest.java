package io.infraveil.controlplane.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.HostStore.HostRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Hosts as the control plane stores them, the same on H2 and PostgreSQL. */
class HostStoreTest {

  static final Instant T0 = Instant.parse("2026-01-01T10:00:00.123456Z");

  @OnBothEngines
  void aHostIsStoredWithItsLabelsSecretAndTimesAndListedByName(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      HostStore hosts = new HostStore(db.jdbc());
      hosts.upsert("web-2", "spiffe://t/host/web-2", Map.of("zone", "b", "tier", "web"),
          new byte[] {0, 1, (byte) 0xff}, T0);
      hosts.upsert("web-1", "spiffe://t/host/web-1", Map.of(), new byte[] {7}, T0.plusSeconds(1));

      HostRecord web2 = hosts.find("web-2").orElseThrow();
      assertEquals("spiffe://t/host/web-2", web2.identity());
      assertEquals(Map.of("tier", "web", "zone", "b"), web2.labels());
      assertArrayEquals(new byte[] {0, 1, (byte) 0xff}, web2.hostSecretSealed());
      assertEquals(T0, web2.enrolledAt());
      assertFalse(web2.revoked());
      assertEquals(0, web2.desiredRevision());
      assertEquals(List.of("web-1", "web-2"), hosts.list().stream().map(HostRecord::name).toList());
      assertEquals(Optional.empty(), hosts.find("web-3"));
    }
  }

  @OnBothEngines
  void reEnrollingReplacesIdentityAndClearsTheRevocationButKeepsRevisions(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      HostStore hosts = new HostStore(db.jdbc());
      hosts.upsert("web-1", "old", Map.of("zone", "a"), new byte[] {1}, T0);
      hosts.setDesiredState("web-1", 4, new byte[] {9, 9});
      hosts.markRevoked("web-1", T0.plusSeconds(5));
      assertEquals(T0.plusSeconds(5), hosts.find("web-1").orElseThrow().revokedAt());

      hosts.upsert("web-1", "new", Map.of("zone", "b"), new byte[] {2}, T0.plusSeconds(10));

      HostRecord back = hosts.find("web-1").orElseThrow();
      assertEquals("new", back.identity());
      assertEquals(Map.of("zone", "b"), back.labels());
      assertArrayEquals(new byte[] {2}, back.hostSecretSealed());
      assertNull(back.revokedAt());
      assertEquals(4, back.desiredRevision(), "a revision never goes back, even across enrollments");
      assertEquals(1, hosts.list().size());
    }
  }

  @OnBothEngines
  void theAckedRevisionOnlyGrowsAndTheDesiredStateRoundTrips(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      HostStore hosts = new HostStore(db.jdbc());
      hosts.upsert("web-1", "id", Map.of(), new byte[] {1}, T0);
      assertEquals(Optional.empty(), hosts.desiredState("web-1"));

      hosts.setAckedRevision("web-1", 5);
      hosts.setAckedRevision("web-1", 3);
      byte[] state = new byte[200_000];
      for (int i = 0; i < state.length; i++) {
        state[i] = (byte) i;
      }
      hosts.setDesiredState("web-1", 6, state);

      HostRecord back = hosts.find("web-1").orElseThrow();
      assertEquals(5, back.ackedRevision());
      assertEquals(6, back.desiredRevision());
      assertTrue(hosts.desiredState("web-1").isPresent());
      assertArrayEquals(state, hosts.desiredState("web-1").orElseThrow());
    }
  }

  // A batch of compare-and-sets stores each host whose revision is still the expected one and
  // reports, per write, which lost to another writer; nothing of a lost write is stored.
  @OnBothEngines
  void aBatchOfDesiredStatesStoresOnlyTheWritesWhoseRevisionStillMatches(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      HostStore hosts = new HostStore(db.jdbc());
      for (String name : List.of("web-1", "web-2", "web-3")) {
        hosts.upsert(name, "id-" + name, Map.of(), new byte[] {1}, T0);
      }
      hosts.setDesiredState("web-2", 7, new byte[] {7}); // another writer moved web-2 on

      boolean[] stored = hosts.compareAndSetDesiredStates(List.of(
          new HostStore.DesiredWrite("web-1", 0, 1, new byte[] {11}),
          new HostStore.DesiredWrite("web-2", 0, 1, new byte[] {21}),
          new HostStore.DesiredWrite("web-3", 0, 1, new byte[] {31})));

      assertArrayEquals(new boolean[] {true, false, true}, stored);
      Map<String, HostStore.StoredDesired> back = hosts.desiredStates(List.of("web-1", "web-2", "web-3", "web-9"));
      assertEquals(3, back.size(), "a host that is not enrolled is left out");
      assertEquals(1, back.get("web-1").revision());
      assertArrayEquals(new byte[] {11}, back.get("web-1").state());
      assertEquals(7, back.get("web-2").revision());
      assertArrayEquals(new byte[] {7}, back.get("web-2").state());
      assertEquals(1, back.get("web-3").revision());
      assertArrayEquals(new byte[] {31}, back.get("web-3").state());
    }
  }

  // Acks written in one batch keep each host's highest revision, as single acks do.
  @OnBothEngines
  void acksWrittenInABatchOnlyRaiseEachHostsAckedRevision(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      HostStore hosts = new HostStore(db.jdbc());
      hosts.upsert("web-1", "id", Map.of(), new byte[] {1}, T0);
      hosts.upsert("web-2", "id", Map.of(), new byte[] {1}, T0);
      hosts.setAckedRevision("web-1", 5);

      hosts.setAckedRevisions(Map.of("web-1", 3L, "web-2", 4L));

      assertEquals(5, hosts.find("web-1").orElseThrow().ackedRevision());
      assertEquals(4, hosts.find("web-2").orElseThrow().ackedRevision());
    }
  }
}
