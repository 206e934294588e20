package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.Jdbc;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upgrading the control plane in place: a data dir from an older release migrates forward at
 * start; one that a newer release migrated is refused, naming both schema versions, and left
 * as it was.
 */
class SchemaUpgradeTest {

  @TempDir Path dir;

  private String url() {
    // The same file ControlPlane.start opens for this data dir.
    return "jdbc:h2:file:" + dir.resolve("data").toAbsolutePath().resolve("controlplane");
  }

  private Flyway flyway(String... locations) {
    return Flyway.configure(getClass().getClassLoader())
        .dataSource(url(), "sa", "").locations(locations).load();
  }

  private String newestKnown() {
    return SchemaVersionGuard.read(url(), "sa", "").known().orElseThrow();
  }

  @Test
  void aDataDirOfAnOlderReleaseMigratesForwardAtStart() throws Exception {
    new TestPki(dir.resolve("pki"));
    // The schema as the first release left it.
    Flyway.configure(getClass().getClassLoader()).dataSource(url(), "sa", "")
        .locations(SchemaVersionGuard.LOCATIONS).target("1").load().migrate();
    String newest = newestKnown();
    assertTrue(!newest.equals("1"), "this release has migrations past version 1");
    assertEquals(Optional.of("1"), SchemaVersionGuard.read(url(), "sa", "").applied());

    try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0,
        Map.of())) {
      assertTrue(controlPlane.grpcPort() > 0);
    }

    assertEquals(Optional.of(newest), SchemaVersionGuard.read(url(), "sa", "").applied());
  }

  @Test
  void aVersion9DeploymentKeepsItsNamedHostsAfterMigrating() throws Exception {
    new TestPki(dir.resolve("pki"));
    Flyway.configure(getClass().getClassLoader()).dataSource(url(), "sa", "")
        .locations(SchemaVersionGuard.LOCATIONS).target("9").load().migrate();
    String sha = "a".repeat(64);
    try (Connection connection = DriverManager.getConnection(url(), "sa", "")) {
      connection.createStatement().execute("INSERT INTO payloads (sha256, plaintext_size, ciphertext_size,"
          + " record_size, nonce_prefix, data_key_sealed, version_label, services, uploaded_by, uploaded_at)"
          + " VALUES ('" + sha + "', 1, 1, 1, X'00', X'00', '1.0', 'api=1', 'alice', CURRENT_TIMESTAMP)");
      // As version 9 stored them: a JSON array of names, and a selector beside it.
      connection.createStatement().execute("INSERT INTO deployments (name, payload_sha256, sequence,"
          + " hosts_json, labels_json, updated_at) VALUES ('web', '" + sha + "', 1,"
          + " '[\"web-2\",\"db.eu-1\",\"web-10\"]', '{}', CURRENT_TIMESTAMP),"
          + " ('zoned', '" + sha + "', 1, '[]', '{\"zone\":\"a\"}', CURRENT_TIMESTAMP)");
    }

    try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0,
        Map.of())) {
      assertTrue(controlPlane.grpcPort() > 0);
    }

    JdbcDataSource source = new JdbcDataSource();
    source.setURL(url());
    source.setUser("sa");
    DeploymentStore store = new DeploymentStore(new Jdbc(source));
    assertEquals(List.of("web-2", "db.eu-1", "web-10"), store.find("web").orElseThrow().hosts());
    assertEquals(List.of(), store.find("zoned").orElseThrow().hosts());
    assertEquals(Map.of("zone", "a"), store.find("zoned").orElseThrow().labels());
    assertEquals(List.of("web", "zoned"), store.list().stream().map(DeploymentRecord::name).toList());
  }

  @Test
  void aDataDirMigratedByANewerReleaseIsRefusedNamingBothVersions() throws Exception {
    new TestPki(dir.resolve("pki"));
    String known = newestKnown();
    // A newer release: every migration of this one, then one of its own.
    flyway(SchemaVersionGuard.LOCATIONS[0], SchemaVersionGuard.LOCATIONS[1],
        "classpath:db/newer-release-test").migrate();

    IllegalStateException refused = assertThrows(IllegalStateException.class,
        () -> ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, Map.of()).close());

    String message = refused.getMessage();
    assertTrue(message.contains("schema version 999"), message);
    assertTrue(message.contains("up to " + known), message);
    assertTrue(message.contains(dir.resolve("data").toString()), message);
    // Nothing was touched: the newer release's table and history are as it left them.
    try (Connection connection = DriverManager.getConnection(url(), "sa", "");
        ResultSet rows = connection.createStatement().executeQuery(
            "SELECT COUNT(*) FROM \"flyway_schema_history\" WHERE \"version\" = '999'")) {
      rows.next();
      assertEquals(1, rows.getInt(1));
      assertTrue(connection.getMetaData().getTables(null, null, "NEWER_RELEASE_TABLE", null)
          .next());
    }
  }

  @Test
  void aNewDataDirHasNothingToCheckAndStarts() throws Exception {
    new TestPki(dir.resolve("pki"));
    try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0,
        Map.of())) {
      assertTrue(controlPlane.grpcPort() > 0);
    }
    assertEquals(Optional.of(newestKnown()), SchemaVersionGuard.read(url(), "sa", "").applied());
  }
}
