package io.infraveil.controlplane.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.infraveil.controlplane.store.Engine;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.store.OnBothEngines;
import io.infraveil.controlplane.store.StoreException;
import io.infraveil.devpostgres.LocalPostgres;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/** Real H2 and PostgreSQL failures mapped to the statuses clients get. */
class StoreFailuresTest {

  Engine.TestDatabase database;

  Jdbc database(Engine engine) {
    database = engine.openEmpty();
    Jdbc jdbc = database.jdbc();
    jdbc.update("create a table", "CREATE TABLE notes (id INT PRIMARY KEY, text VARCHAR(10))", s -> {});
    return jdbc;
  }

  @AfterEach
  void close() {
    if (database != null) {
      database.close();
    }
  }

  Status failureOf(Runnable work) {
    return StoreFailures.status(assertThrows(StoreException.class, work::run));
  }

  @OnBothEngines
  void aValueTooLongIsInvalidArgumentNamingItsLimitWithoutTheValue(Engine engine) {
    Jdbc jdbc = database(engine);
    Status status = failureOf(() -> jdbc.update("store note 1", "INSERT INTO notes VALUES (1, ?)",
        s -> s.setString(1, "secret-" + "y".repeat(20))));
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertEquals(switch (engine) {
      // H2 names the column and the length sent
      case H2 -> "cannot store note 1: the value for text is 27 characters long; it takes at most 10,"
          + " so send less";
      // PostgreSQL names only the limit
      case POSTGRESQL -> "cannot store note 1: a value is longer than 10 characters, the most its field"
          + " takes; send less";
    }, status.getDescription());
  }

  @OnBothEngines
  void aUniqueViolationIsAbortedToTryAgain(Engine engine) {
    Jdbc jdbc = database(engine);
    jdbc.update("store note 1", "INSERT INTO notes VALUES (1, 'a')", s -> {});
    Status status = failureOf(() -> jdbc.update("store note 1", "INSERT INTO notes VALUES (1, 'b')", s -> {}));
    assertEquals(Status.Code.ABORTED, status.getCode());
    assertTrue(status.getDescription().startsWith("cannot store note 1: "), status.getDescription());
    assertTrue(status.getDescription().endsWith("try again"), status.getDescription());
  }

  @Test
  void anUnreachableDatabaseIsUnavailableToTryAgain(@TempDir Path dir) {
    try (LocalPostgres postgres = LocalPostgres.start(dir)) {
      LocalPostgres.Database db = postgres.newDatabase();
      PGSimpleDataSource source = new PGSimpleDataSource();
      source.setURL(db.jdbcUrl());
      source.setUser(db.user());
      Jdbc jdbc = new Jdbc(source);
      postgres.kill();
      Status status = failureOf(() -> jdbc.update("store note 1", "INSERT INTO notes VALUES (1, 'a')", s -> {}));
      assertEquals(Status.Code.UNAVAILABLE, status.getCode());
      assertEquals("cannot store note 1: the control plane's database cannot be reached; try again",
          status.getDescription());
    }
  }

  @OnBothEngines
  void anythingElseIsInternalPointingAtTheLog(Engine engine) {
    Jdbc jdbc = database(engine);
    Status status = failureOf(() -> jdbc.update("store a page", "INSERT INTO pages VALUES (1)", s -> {}));
    assertEquals(Status.Code.INTERNAL, status.getCode());
    assertEquals("cannot store a page: the control plane's database failed; see the control plane's log"
        + " (\"cannot store a page\") for the cause", status.getDescription());
    assertTrue(status.getCause() instanceof StoreException);
  }
}
