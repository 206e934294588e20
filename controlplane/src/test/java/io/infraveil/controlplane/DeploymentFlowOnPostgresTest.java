package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.store.SqlDialect;
import io.infraveil.devpostgres.LocalPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every flow of {@link DeploymentFlowTest} (enrollment, upload, placement, Sync, Fetch,
 * revocation, a restart) through real mTLS gRPC, with the control plane's store on PostgreSQL,
 * configured as an operator would: a URL, a user and a password file.
 */
class DeploymentFlowOnPostgresTest extends DeploymentFlowTest {

  /** One database per test, kept across the restarts a test makes. */
  private LocalPostgres.Database database;

  @Override
  Map<String, Object> properties() throws Exception {
    if (database == null) {
      database = LocalPostgres.shared().newDatabase();
    }
    Path passwordFile = Files.writeString(dir.resolve("database-password"), database.password() + "\n");
    return Map.of(
        "infraveil.datasource.url", database.jdbcUrl(),
        "infraveil.datasource.username", database.user(),
        "infraveil.datasource.password-file", passwordFile.toString());
  }

  @Test
  void theStoreIsPostgresqlAndNoH2FileIsMade() {
    assertEquals(SqlDialect.POSTGRESQL, controlPlane.bean(Jdbc.class).dialect());
    assertFalse(Files.exists(dir.resolve("data").resolve("controlplane.mv.db")));
  }
}
