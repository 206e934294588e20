package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.store.SqlDialect;
import io.infraveil.devpostgres.LocalPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Upgrading on PostgreSQL: an older schema migrates forward at start (V10's copy of the named
 * hosts included, in its PostgreSQL form), and a schema a newer release migrated is refused,
 * naming both versions and the database, and left as it was.
 */
class SchemaUpgradeOnPostgresTest {

  @TempDir Path dir;
  final LocalPostgres.Database database = LocalPostgres.shared().newDatabase();

  Map<String, Object> properties() {
    return Map.of("infraveil.datasource.url", database.jdbcUrl(),
        "infraveil.datasource.username", database.user());
  }

  Flyway flyway(String... locations) {
    return Flyway.configure(getClass().getClassLoader())
        .dataSource(database.jdbcUrl(), database.user(), database.password())
        .locations(locations).load();
  }

  String newestKnown() {
    return SchemaVersionGuard.read(database.jdbcUrl(), database.user(), database.password()).known()
        .orElseThrow();
  }

  @Test
  void aVersion9SchemaMigratesForwardAndKeepsTheNamedHosts() throws Exception {
    new TestPki(dir.resolve("pki"));
    Flyway.configure(getClass().getClassLoader())
        .dataSource(database.jdbcUrl(), database.user(), database.password())
        .locations(SchemaVersionGuard.locations(SqlDialect.POSTGRESQL)).target("9").load().migrate();
    String sha = "a".repeat(64);
    try (Connection connection = database.connect(); Statement s = connection.createStatement()) {
      s.execute("INSERT INTO payloads (sha256, plaintext_size, ciphertext_size, record_size, nonce_prefix,"
          + " data_key_sealed, version_label, services, uploaded_by, uploaded_at) VALUES ('" + sha
          + "', 1, 1, 1, '\\x00', '\\x00', '1.0', 'api=1', 'alice', CURRENT_TIMESTAMP)");
      s.execute("INSERT INTO deployments (name, payload_sha256, sequence, hosts_json, labels_json,"
          + " updated_at) VALUES ('web', '" + sha + "', 1, '[\"web-2\",\"db.eu-1\",\"web-10\"]', '{}',"
          + " CURRENT_TIMESTAMP), ('zoned', '" + sha + "', 1, '[]', '{\"zone\":\"a\"}', CURRENT_TIMESTAMP)");
    }

    try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0,
        properties())) {
      assertTrue(controlPlane.grpcPort() > 0);
    }

    assertEquals(Optional.of(newestKnown()),
        SchemaVersionGuard.read(database.jdbcUrl(), database.user(), database.password()).applied());
    PGSimpleDataSource source = new PGSimpleDataSource();
    source.setURL(database.jdbcUrl());
    source.setUser(database.user());
    source.setPassword(database.password());
    DeploymentStore store = new DeploymentStore(new Jdbc(source));
    assertEquals(List.of("web-2", "db.eu-1", "web-10"), store.find("web").orElseThrow().hosts());
    assertEquals(List.of(), store.find("zoned").orElseThrow().hosts());
  }

  @Test
  void aSchemaMigratedByANewerReleaseIsRefusedNamingBothVersionsAndTheDatabase() throws Exception {
    new TestPki(dir.resolve("pki"));
    String known = newestKnown();
    String[] newer = List.of(SchemaVersionGuard.locations(SqlDialect.POSTGRESQL)[0],
        SchemaVersionGuard.locations(SqlDialect.POSTGRESQL)[1], "classpath:db/newer-release-test")
        .toArray(String[]::new);
    flyway(newer).migrate();

    IllegalStateException refused = assertThrows(IllegalStateException.class,
        () -> ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, properties()).close());

    String message = refused.getMessage();
    assertTrue(message.contains("schema version 999"), message);
    assertTrue(message.contains("up to " + known), message);
    assertTrue(message.contains("database " + database.jdbcUrl()), message);
    try (Connection connection = database.connect(); Statement s = connection.createStatement();
        ResultSet rows = s.executeQuery(
            "SELECT COUNT(*) FROM flyway_schema_history WHERE version = '999'")) {
      rows.next();
      assertEquals(1, rows.getInt(1), "the newer release's history is as it left it");
    }
    assertFalse(dir.resolve("data").resolve("controlplane.mv.db").toFile().exists());
  }
}
