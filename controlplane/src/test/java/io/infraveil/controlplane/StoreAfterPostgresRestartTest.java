package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.HostStore;
import io.infraveil.controlplane.store.StoreException;
import io.infraveil.devpostgres.LocalPostgres;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A control plane outlives a PostgreSQL restart: while the server is down a store call fails
 * (after the pool's connection timeout) with a StoreException saying what it was doing, and
 * once the server is back the same control plane stores and reads again, without a restart.
 */
class StoreAfterPostgresRestartTest {

  @TempDir Path dir;

  @Test
  void storeCallsFailWhilePostgresqlIsDownAndWorkAgainOnceItIsBack() throws Exception {
    new TestPki(dir.resolve("pki"));
    try (LocalPostgres postgres = LocalPostgres.start(dir.resolve("postgres"))) {
      LocalPostgres.Database database = postgres.newDatabase();
      try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0,
          Map.of(StoreDatabase.URL, database.jdbcUrl(), StoreDatabase.USERNAME, database.user()))) {
        HostStore hosts = controlPlane.bean(HostStore.class);
        hosts.upsert("web-1", "spiffe://t/host/web-1", Map.of(), new byte[] {1}, Instant.now());

        postgres.kill();
        StoreException down = assertThrows(StoreException.class, hosts::list);
        assertEquals("list hosts", down.what());

        postgres.start();
        assertEquals(List.of("web-1"), hosts.list().stream().map(HostStore.HostRecord::name).toList());
        hosts.upsert("web-2", "spiffe://t/host/web-2", Map.of(), new byte[] {2}, Instant.now());
        assertTrue(hosts.find("web-2").isPresent());
      }
    }
  }
}
