package io.infraveil.controlplane;

import io.infraveil.devpostgres.LocalPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** {@link TwoControlPlanesOneDatabaseTest} with both control planes on one real PostgreSQL. */
class TwoControlPlanesOnPostgresTest extends TwoControlPlanesOneDatabaseTest {

  @Override
  Map<String, Object> shared() throws Exception {
    LocalPostgres.Database database = LocalPostgres.shared().newDatabase();
    Path passwordFile = Files.writeString(dir.resolve("database-password"), database.password() + "\n");
    return Map.of(
        "infraveil.datasource.url", database.jdbcUrl(),
        "infraveil.datasource.username", database.user(),
        "infraveil.datasource.password-file", passwordFile.toString());
  }
}
