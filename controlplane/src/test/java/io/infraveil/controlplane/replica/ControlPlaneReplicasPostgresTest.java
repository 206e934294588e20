package io.infraveil.controlplane.replica;

import io.infraveil.devpostgres.LocalPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The replica contract on a real PostgreSQL (the build's own, from dev-postgres). */
class ControlPlaneReplicasPostgresTest extends ControlPlaneReplicasContract {

  @Override
  Map<String, Object> database() throws Exception {
    LocalPostgres.Database database = LocalPostgres.shared().newDatabase();
    Path passwordFile = Files.writeString(dir.resolve("database-password"), database.password() + "\n");
    return Map.of("infraveil.datasource.url", database.jdbcUrl(),
        "infraveil.datasource.username", database.user(),
        "infraveil.datasource.password-file", passwordFile.toString());
  }
}
