package io.infraveil.controlplane.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.DeploymentStore.Frozen;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.IntStream;

/**
 * Deployments, the hosts they name (one row each) and their sequences, on H2 and PostgreSQL.
 */
class DeploymentStoreTest {

  static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");
  static final String V1 = "1".repeat(64);
  static final String V2 = "2".repeat(64);

  static DeploymentStore store(Engine.TestDatabase db) {
    PayloadStore payloads = new PayloadStore(db.jdbc());
    payloads.insertIfAbsent(PayloadStoreTest.payload(V1, "1.0"));
    payloads.insertIfAbsent(PayloadStoreTest.payload(V2, "2.0"));
    return new DeploymentStore(db.jdbc());
  }

  static DeploymentRecord web(List<String> hosts) {
    return new DeploymentRecord("web", V1, 1, null, null, 1, hosts, Map.of(), 0, false, false,
        null, null, T0);
  }

  @OnBothEngines
  void aDeploymentRoundTripsWithEveryField(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      DeploymentStore deployments = store(db);
      DeploymentRecord full = new DeploymentRecord("web", V2, 7, V1, 6L, 3, List.of("web-2", "web-1"),
          Map.of("zone", "a"), 4, true, true, new byte[] {0, (byte) 0xfe, 5}, new Frozen(V1, 6, 2),
          T0.plusMillis(1));
      deployments.upsert(full);

      DeploymentRecord back = deployments.find("web").orElseThrow();
      assertEquals(V2, back.payloadSha256());
      assertEquals(7, back.sequence());
      assertEquals(V1, back.previousSha256());
      assertEquals(6L, back.previousSequence());
      assertEquals(3, back.generation());
      assertEquals(List.of("web-2", "web-1"), back.hosts(), "hosts in the order given");
      assertEquals(Map.of("zone", "a"), back.labels());
      assertEquals(4, back.maxInstances());
      assertTrue(back.paused());
      assertTrue(back.retryMarkedBad());
      assertArrayEquals(new byte[] {0, (byte) 0xfe, 5}, back.signatures());
      assertEquals(new Frozen(V1, 6, 2), back.frozen());
      assertEquals(T0.plusMillis(1), back.updatedAt());

      deployments.upsert(web(List.of()));
      DeploymentRecord plain = deployments.find("web").orElseThrow();
      assertNull(plain.previousSequence());
      assertNull(plain.previousSha256());
      assertNull(plain.signatures());
      assertNull(plain.frozen());
      assertFalse(plain.paused());
      assertEquals(List.of(), plain.hosts());
    }
  }

  @OnBothEngines
  void aThousandNamedHostsAreKeptInOrderAndGoWithTheDeployment(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      DeploymentStore deployments = store(db);
      List<String> many = IntStream.range(0, 1_000).mapToObj(i -> "host-" + (999 - i)).toList();
      deployments.upsert(web(many));
      deployments.upsert(new DeploymentRecord("api", V1, 1, null, null, 1, List.of("a"), Map.of(),
          0, false, false, null, null, T0));

      assertEquals(many, deployments.find("web").orElseThrow().hosts());
      assertEquals(List.of("api", "web"), deployments.list().stream().map(DeploymentRecord::name).toList());
      assertEquals(many, deployments.list().get(1).hosts());

      assertTrue(deployments.delete("web"));
      assertFalse(deployments.delete("web"));
      assertTrue(deployments.find("web").isEmpty());
      assertEquals(List.of(0L), db.jdbc().query("count hosts",
          "SELECT COUNT(*) FROM deployment_hosts WHERE deployment = 'web'", s -> {}, r -> r.getLong(1)));
    }
  }

  @OnBothEngines
  void sequencesOnlyGrowAcrossDeletionAndAClaimBelowTheLastIsRefused(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      DeploymentStore deployments = store(db);
      assertEquals(1, deployments.nextSequence("web"));
      assertEquals(2, deployments.nextSequence("web"));
      assertEquals(1, deployments.nextSequence("api"));
      deployments.upsert(web(List.of()));
      deployments.delete("web");

      assertEquals(OptionalLong.of(2), deployments.claimSequence("web", 2));
      assertEquals(OptionalLong.empty(), deployments.claimSequence("web", 10));
      assertEquals(OptionalLong.of(10), deployments.claimSequence("web", 9));
      assertEquals(11, deployments.nextSequence("web"));
      assertEquals(OptionalLong.empty(), deployments.claimSequence("new", 5));
    }
  }
}
