package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.controlplane.store.Engine;
import io.infraveil.controlplane.store.SqlDialect;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.junit.jupiter.api.Test;

/**
 * The H2 migrations are the released ones: an existing data dir validates only if each version
 * keeps its description and Flyway checksum, wherever the file moved (common/ or h2/).
 */
class MigrationChecksumsTest {

  /** As the released files had them; a new version is added here, an old one never changes. */
  static final Map<String, String> RELEASED = new TreeMap<>(Map.of(
      "1", "hosts tokens certificates 822976534",
      "2", "payloads deployments -955138877",
      "3", "operations history incidents 393477824",
      "4", "enrollment replace security event counts 88577725",
      "5", "secrets 1211977078",
      "6", "host event marks -405883101",
      "7", "rollouts 432819412",
      "9", "dashboard sessions 892394103",
      "10", "deployment hosts -218876424"));

  @Test
  void everyReleasedH2MigrationKeepsItsChecksum() {
    try (Engine.TestDatabase db = Engine.H2.openEmpty()) {
      MigrationInfo[] all = Flyway.configure(getClass().getClassLoader()).dataSource(db.dataSource())
          .locations(SchemaVersionGuard.locations(SqlDialect.H2)).load().info().all();
      Map<String, String> resolved = new TreeMap<>();
      Arrays.stream(all).filter(m -> RELEASED.containsKey(m.getVersion().getVersion()))
          .forEach(m -> resolved.put(m.getVersion().getVersion(), m.getDescription() + " " + m.getChecksum()));
      assertEquals(RELEASED, resolved);
    }
  }
}
