package io.infraveil.devpostgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.devpostgres.LocalPostgres.Database;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real server: databases are separate, and committed rows survive a stop and a kill -9. */
class LocalPostgresTest {

  @TempDir Path dir;

  @Test
  void sharedServerHandsOutSeparateDatabases() throws Exception {
    Database a = LocalPostgres.shared().newDatabase();
    Database b = LocalPostgres.shared().newDatabase();
    assertNotEquals(a.jdbcUrl(), b.jdbcUrl());
    try (Connection c = a.connect(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE only_in_a (x INT)");
    }
    try (Connection c = b.connect(); Statement s = c.createStatement()) {
      assertThrows(SQLException.class, () -> s.executeQuery("SELECT * FROM only_in_a"));
      ResultSet version = s.executeQuery("SHOW server_version");
      assertTrue(version.next());
      assertTrue(version.getString(1).startsWith("14."), version.getString(1));
    }
  }

  @Test
  void committedRowsSurviveAStopAndAKill() throws Exception {
    try (LocalPostgres server = LocalPostgres.start(dir)) {
      Database db = server.database("durable");
      try (Connection c = db.connect(); Statement s = c.createStatement()) {
        s.execute("CREATE TABLE t (x INT)");
        s.execute("INSERT INTO t VALUES (1)");
      }
      int port = server.port();
      server.stop();
      assertFalse(server.isRunning());
      assertThrows(SQLException.class, db::connect);
      server.start();
      assertEquals(port, server.port());
      try (Connection c = db.connect(); Statement s = c.createStatement()) {
        s.execute("INSERT INTO t VALUES (2)");
      }
      server.kill();
      assertFalse(server.isRunning());
      server.start();
      try (Connection c = db.connect(); Statement s = c.createStatement()) {
        ResultSet rows = s.executeQuery("SELECT count(*) FROM t");
        rows.next();
        assertEquals(2, rows.getInt(1));
      }
    }
  }

  @Test
  void aBadDatabaseNameIsRefusedWithTheRule() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> LocalPostgres.shared().database("Robert'); DROP"));
    assertTrue(e.getMessage().contains("lower-case"), e.getMessage());
  }
}
