package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.history.HistoryStore;
import io.infraveil.controlplane.history.HistoryWriter;
import io.infraveil.controlplane.ops.OperationsSettings;
import io.infraveil.controlplane.store.Engine;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;

/** The JDBC store (real database, real migrations) keeps the store contract on both engines. */
class JdbcIncidentStoreTest {

  /** A JdbcIncidentStore over a fresh database of one engine, its timeline writer flushed by hand. */
  abstract static class OnEngine extends IncidentStoreContract {

    private final Engine engine;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private Engine.TestDatabase database;
    private HistoryWriter writer;

    OnEngine(Engine engine) {
      this.engine = engine;
    }

    @Override
    IncidentStore store() {
      database = engine.open();
      writer = new HistoryWriter(new HistoryStore(database.dataSource()),
          new OperationsSettings(0, "127.0.0.1", Duration.ofDays(7), Duration.ofHours(1), 100_000,
              Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofMinutes(10), 5,
              Duration.ofMinutes(5)),
          Clock.systemUTC(), scheduler);
      return new JdbcIncidentStore(database.jdbc(), writer);
    }

    @Override
    void flush() {
      writer.flush(); // timeline appends are written in batches
    }

    @AfterEach
    void close() {
      scheduler.shutdownNow();
      if (database != null) {
        database.close();
      }
    }
  }

  @Nested
  class OnH2 extends OnEngine {
    OnH2() {
      super(Engine.H2);
    }
  }

  @Nested
  class OnPostgresql extends OnEngine {
    OnPostgresql() {
      super(Engine.POSTGRESQL);
    }
  }
}
