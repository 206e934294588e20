package io.infraveil.controlplane.replica;

import io.infraveil.devpostgres.LocalPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The lease contract on a real PostgreSQL (the build's own, from dev-postgres), on the lease
 * and replica tables exactly as migration V12 creates them.
 */
class LeadershipPostgresTest extends LeadershipContract {

  static LocalPostgres.Database database;

  @BeforeAll
  static void schema() throws Exception {
    database = LocalPostgres.shared().newDatabase();
    String v12;
    try (InputStream in = LeadershipPostgresTest.class.getResourceAsStream(
        "/db/migration/common/V12__control_plane_replicas.sql")) {
      if (in == null) {
        throw new IOException("migration V12 is not on the classpath");
      }
      v12 = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    try (Connection c = database.connect(); Statement s = c.createStatement()) {
      for (String statement : v12.replaceAll("(?m)^--.*$", "").split(";")) {
        if (statement.contains("control_plane_")) { // the incidents part needs the earlier migrations
          s.execute(statement);
        }
      }
    }
  }

  @Override
  DataSource dataSource() {
    PGSimpleDataSource source = new PGSimpleDataSource();
    source.setURL(database.jdbcUrl());
    source.setUser(database.user());
    source.setPassword(database.password());
    return source;
  }

  @Override
  void breakConnection(DataSource source) {
    ((PGSimpleDataSource) source).setPortNumbers(new int[] {SharedH2.freePort()});
  }
}
