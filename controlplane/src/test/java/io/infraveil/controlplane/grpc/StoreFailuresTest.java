package io.infraveil.controlplane.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.store.StoreException;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real H2 failures mapped to the statuses clients get. */
class StoreFailuresTest {

  Jdbc jdbc;

  @BeforeEach
  void database() {
    JdbcDataSource source = new JdbcDataSource();
    source.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    source.setUser("sa");
    jdbc = new Jdbc(source);
    jdbc.update("create a table", "CREATE TABLE notes (id INT PRIMARY KEY, text VARCHAR(10))", s -> {});
  }

  Status failureOf(Runnable work) {
    return StoreFailures.status(assertThrows(StoreException.class, work::run));
  }

  @Test
  void aValueTooLongIsInvalidArgumentNamingTheFieldAndItsLimitWithoutTheValue() {
    Status status = failureOf(() -> jdbc.update("store note 1", "INSERT INTO notes VALUES (1, ?)",
        s -> s.setString(1, "secret-" + "y".repeat(20))));
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertEquals("cannot store note 1: the value for text is 27 characters long; it takes at most 10,"
        + " so send less", status.getDescription());
  }

  @Test
  void aUniqueViolationIsAbortedToTryAgain() {
    jdbc.update("store note 1", "INSERT INTO notes VALUES (1, 'a')", s -> {});
    Status status = failureOf(() -> jdbc.update("store note 1", "INSERT INTO notes VALUES (1, 'b')", s -> {}));
    assertEquals(Status.Code.ABORTED, status.getCode());
    assertTrue(status.getDescription().startsWith("cannot store note 1: "), status.getDescription());
    assertTrue(status.getDescription().endsWith("try again"), status.getDescription());
  }

  @Test
  void anythingElseIsInternalPointingAtTheLog() {
    Status status = failureOf(() -> jdbc.update("store a page", "INSERT INTO pages VALUES (1)", s -> {}));
    assertEquals(Status.Code.INTERNAL, status.getCode());
    assertEquals("cannot store a page: the control plane's database failed; see the control plane's log"
        + " (\"cannot store a page\") for the cause", status.getDescription());
    assertTrue(status.getCause() instanceof StoreException);
  }
}
