package io.infraveil.controlplane.replica;

import io.infraveil.certs.PkiDirectory;
import io.infraveil.controlplane.ControlPlane;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The lease contract on H2 served over TCP, migrated by a real control plane start. */
class LeadershipH2Test extends LeadershipContract {

  @TempDir static Path dir;
  static SharedH2 database;
  static ControlPlane migrator;

  @BeforeAll
  static void migrate() throws Exception {
    database = new SharedH2(dir.resolve("db"));
    new PkiDirectory(dir.resolve("pki"), Clock.systemUTC()).init("test.infraveil");
    Map<String, Object> properties = new HashMap<>(database.datasource());
    properties.put("infraveil.replica-name", "migrator");
    // The schema comes from a real start; then this control plane leaves the lease to the test.
    migrator = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, properties);
    migrator.bean(Replicas.class).stop();
  }

  @AfterAll
  static void stop() {
    migrator.close();
    database.close();
  }

  @Override
  DataSource dataSource() {
    JdbcDataSource source = new JdbcDataSource();
    source.setURL(database.url());
    source.setUser("sa");
    source.setPassword("");
    return source;
  }

  @Override
  void breakConnection(DataSource source) {
    ((JdbcDataSource) source).setURL("jdbc:h2:tcp://127.0.0.1:" + SharedH2.freePort() + "/nowhere");
  }
}
