package io.infraveil.controlplane.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.SecretStore.SecretRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Sealed secrets and their version counters, on H2 and PostgreSQL. */
class SecretStoreTest {

  static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

  static SecretRecord secret(String name, long version, byte value) {
    return new SecretRecord("web", name, version, new byte[] {value, 0, (byte) 0xff},
        new byte[] {9, 8}, "spiffe://t/operator/alice", T0.plusSeconds(version));
  }

  @OnBothEngines
  void theNewestVersionReplacesTheOldAndVersionsGrowAcrossDeletes(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      SecretStore secrets = new SecretStore(db.jdbc());
      assertEquals(1, secrets.nextVersion("web", "DB_PASSWORD"));
      secrets.upsert(secret("DB_PASSWORD", 1, (byte) 1));
      assertEquals(2, secrets.nextVersion("web", "DB_PASSWORD"));
      secrets.upsert(secret("DB_PASSWORD", 2, (byte) 2));
      assertEquals(1, secrets.nextVersion("web", "API_KEY"));
      secrets.upsert(secret("API_KEY", 1, (byte) 3));

      SecretRecord back = secrets.find("web", "DB_PASSWORD").orElseThrow();
      assertEquals(2, back.version());
      assertArrayEquals(new byte[] {2, 0, (byte) 0xff}, back.valueSealed());
      assertArrayEquals(new byte[] {9, 8}, back.dataKeySealed());
      assertEquals(T0.plusSeconds(2), back.setAt());
      assertEquals(List.of("API_KEY", "DB_PASSWORD"), secrets.list("web").stream().map(SecretRecord::name).toList());
      assertEquals(List.of(), secrets.list("api"));

      assertTrue(secrets.delete("web", "DB_PASSWORD"));
      assertFalse(secrets.delete("web", "DB_PASSWORD"));
      assertTrue(secrets.find("web", "DB_PASSWORD").isEmpty());
      assertEquals(3, secrets.nextVersion("web", "DB_PASSWORD"), "a deleted secret's versions are not reused");
    }
  }

  @OnBothEngines
  void twoWritersSettingANewSecretAtOnceNeverShareAVersion(Engine engine) throws Exception {
    try (Engine.TestDatabase db = engine.open()) {
      // Two stores over one database stand for two control planes, each setting the same new
      // secrets at the same moment: the first version of each is where they collide.
      List<SecretStore> planes = List.of(new SecretStore(db.jdbc()), new SecretStore(db.jdbc()));
      int secrets = 40;
      CyclicBarrier together = new CyclicBarrier(planes.size());
      ExecutorService pool = Executors.newFixedThreadPool(planes.size());
      try {
        List<Future<List<Long>>> taken = new ArrayList<>();
        for (SecretStore store : planes) {
          taken.add(pool.submit(() -> {
            List<Long> versions = new ArrayList<>();
            for (int i = 0; i < secrets; i++) {
              together.await(30, TimeUnit.SECONDS);
              versions.add(store.nextVersion("web", "NEW_" + i));
            }
            return versions;
          }));
        }
        List<Long> first = taken.get(0).get(60, TimeUnit.SECONDS);
        List<Long> second = taken.get(1).get(60, TimeUnit.SECONDS);
        for (int i = 0; i < secrets; i++) {
          assertEquals(List.of(1L, 2L), List.of(first.get(i), second.get(i)).stream().sorted().toList(),
              "secret NEW_" + i + ": each writer its own version");
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
