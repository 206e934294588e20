package io.infraveil.controlplane;

import io.infraveil.devpostgres.LocalPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@link MasterKeyFingerprintTest}'s refusal and rotation with the store on PostgreSQL (the
 * count of re-sealed values reads the H2 file directly, so it runs there only).
 */
class MasterKeyFingerprintOnPostgresTest extends MasterKeyFingerprintTest {

  private LocalPostgres.Database database;

  @Override
  Map<String, Object> database() throws Exception {
    if (database == null) {
      database = LocalPostgres.shared().newDatabase();
    }
    Path passwordFile = Files.writeString(dir.resolve("database-password"), database.password() + "\n");
    return Map.of(
        "infraveil.datasource.url", database.jdbcUrl(),
        "infraveil.datasource.username", database.user(),
        "infraveil.datasource.password-file", passwordFile.toString());
  }

  @Override
  void theRotatingStartResealsEachValueOnce() {
    // H2 only: it opens the data dir's H2 file directly.
  }
}
