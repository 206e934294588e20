package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.store.Engine;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postgresql.ds.PGSimpleDataSource;

/** The lease contract on a real PostgreSQL (the build's own, from dev-postgres), every migration applied. */
class LeadershipPostgresTest extends LeadershipContract {

  static Engine.TestDatabase database;

  @BeforeAll
  static void migrate() {
    database = Engine.POSTGRESQL.open();
  }

  @AfterAll
  static void close() {
    database.close();
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
