package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.SqlDialect;
import io.infraveil.devpostgres.LocalPostgres;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which database a control plane opens, where its password comes from, and how a database it
 * cannot use stops the start: naming the URL, never the password, and what to check.
 */
class StoreDatabaseTest {

  @TempDir Path dir;

  static final String URL = "jdbc:postgresql://db.example.com:5432/infraveil";

  @Test
  void withoutAUrlTheStoreIsTheH2FileInTheDataDir() {
    StoreDatabase database = StoreDatabase.resolve(dir, Map.of(), Map.of());
    assertTrue(database.embedded());
    assertEquals(SqlDialect.H2, database.dialect());
    assertTrue(database.url().startsWith("jdbc:h2:file:" + dir.resolve("controlplane") + ";"), database.url());
    assertEquals(List.of("classpath:db/migration/common", "classpath:db/migration/h2"),
        database.contextProperties().get("flyway.datasources.default.locations"));
  }

  @Test
  void aPostgresqlUrlTakesItsDriverMigrationsAndPool() {
    StoreDatabase database = StoreDatabase.resolve(dir, Map.of(StoreDatabase.URL, URL,
        StoreDatabase.USERNAME, "infraveil", StoreDatabase.POOL_SIZE, 4), Map.of());
    assertFalse(database.embedded());
    Map<String, Object> properties = database.contextProperties();
    assertEquals(URL, properties.get("datasources.default.url"));
    assertEquals("org.postgresql.Driver", properties.get("datasources.default.driver-class-name"));
    assertEquals("infraveil", properties.get("datasources.default.username"));
    assertEquals(4, properties.get("datasources.default.maximum-pool-size"));
    assertEquals(List.of("classpath:db/migration/common", "classpath:db/migration/postgresql"),
        properties.get("flyway.datasources.default.locations"));
  }

  @Test
  void anH2UrlIsTakenAsGivenWithH2sDefaultUser() {
    StoreDatabase database = StoreDatabase.resolve(dir, Map.of(StoreDatabase.URL, "jdbc:h2:mem:test"), Map.of());
    assertFalse(database.embedded());
    assertEquals(SqlDialect.H2, database.dialect());
    assertEquals("jdbc:h2:mem:test", database.url());
    assertEquals("sa", database.username());
    assertEquals("", database.password());
  }

  @Test
  void micronautsOwnDatasourcePropertiesSetInThisJvmNameTheDatabaseToo() {
    StoreDatabase database = StoreDatabase.resolve(dir, Map.of("datasources.default.url", URL,
        "datasources.default.username", "u", "datasources.default.password", "p"), Map.of());
    assertFalse(database.embedded());
    assertEquals(URL, database.contextProperties().get("datasources.default.url"));
    assertEquals("u", database.username());
    assertEquals("p", database.password());
    assertEquals(List.of("classpath:db/migration/common", "classpath:db/migration/postgresql"),
        database.contextProperties().get("flyway.datasources.default.locations"));
  }

  @Test
  void thePasswordComesFromTheFileElseFromTheEnvironment() throws Exception {
    Path file = Files.writeString(dir.resolve("password"), "from-file\nignored second line\n");
    Map<String, String> env = Map.of(StoreDatabase.PASSWORD_ENV, "from-env");
    assertEquals("from-file", StoreDatabase.resolve(dir, Map.of(StoreDatabase.URL, URL,
        StoreDatabase.PASSWORD_FILE, file.toString()), env).password());
    assertEquals("from-env", StoreDatabase.resolve(dir, Map.of(StoreDatabase.URL, URL), env).password());

    IllegalStateException missing = assertThrows(IllegalStateException.class, () -> StoreDatabase
        .resolve(dir, Map.of(StoreDatabase.URL, URL, StoreDatabase.PASSWORD_FILE,
            dir.resolve("absent").toString()), env));
    assertTrue(missing.getMessage().startsWith("cannot read the database password from "
        + dir.resolve("absent") + " (datasource.password-file)"), missing.getMessage());
  }

  @Test
  void aUrlOfAnotherEngineIsRefusedSayingWhatToGive() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> StoreDatabase.resolve(dir, Map.of(StoreDatabase.URL, "jdbc:mysql://db/infraveil"), Map.of()));
    assertTrue(refused.getMessage().contains("jdbc:postgresql://HOST:PORT/DATABASE"), refused.getMessage());
  }

  @Test
  void anUnreachableServerStopsTheStartNamingTheUrlButNotItsPassword() throws Exception {
    new TestPki(dir.resolve("pki"));
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    String url = "jdbc:postgresql://127.0.0.1:" + closedPort + "/infraveil?password=hunter2&connectTimeout=5";

    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> ControlPlane.start(
        dir.resolve("data"), dir.resolve("pki"), 0, Map.of(StoreDatabase.URL, url)).close());

    String message = refused.getMessage();
    assertTrue(message.startsWith("cannot open the database at jdbc:postgresql://127.0.0.1:" + closedPort
        + "/infraveil?password=***&connectTimeout=5: "), message);
    assertTrue(message.contains("check that the server runs and accepts connections"), message);
    assertFalse(message.contains("hunter2"), message);
    assertFalse(Files.exists(dir.resolve("data").resolve("controlplane.mv.db")), "no H2 file instead");
  }

  @Test
  void aMissingDatabaseStopsTheStartNamingIt() throws Exception {
    new TestPki(dir.resolve("pki"));
    String url = LocalPostgres.shared().url("no_such_database");

    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> ControlPlane.start(
        dir.resolve("data"), dir.resolve("pki"), 0, Map.of(StoreDatabase.URL, url,
            StoreDatabase.USERNAME, "postgres")).close());

    assertTrue(refused.getMessage().startsWith("cannot open the database at " + url + " as user postgres: "),
        refused.getMessage());
    assertTrue(refused.getMessage().contains("no_such_database"), refused.getMessage());
    assertTrue(refused.getMessage().contains("that the database exists"), refused.getMessage());
  }
}
