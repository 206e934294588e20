package io.infraveil.controlplane.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.infraveil.controlplane.store.Engine;
import io.infraveil.controlplane.store.HostStore;
import io.infraveil.controlplane.store.OnBothEngines;
import io.infraveil.controlplane.store.StoreException;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** Acks are written in batches, each host's highest, and none is lost when a write fails. */
class AckBatchesTest {

  static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

  // Many acks of a burst become one write per host holding its highest revision.
  @OnBothEngines
  void aFlushWritesEachHostsHighestAck(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      HostStore hosts = new HostStore(db.jdbc());
      hosts.upsert("web-1", "id", Map.of(), new byte[] {1}, T0);
      hosts.upsert("web-2", "id", Map.of(), new byte[] {1}, T0);
      AckBatches acks = new AckBatches(hosts, neverRuns());

      acks.acked("web-1", 5);
      acks.acked("web-1", 3);
      acks.acked("web-2", 2);
      acks.acked("web-2", 4);

      assertEquals(2, acks.flush());
      assertEquals(5, hosts.find("web-1").orElseThrow().ackedRevision());
      assertEquals(4, hosts.find("web-2").orElseThrow().ackedRevision());
      assertEquals(0, acks.flush(), "nothing is pending after a flush");
    }
  }

  // A flush the database refuses keeps the acks pending; the next one writes them.
  @OnBothEngines
  void acksOfAFailedFlushAreWrittenByTheNext(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      HostStore hosts = new HostStore(db.jdbc());
      hosts.upsert("web-1", "id", Map.of(), new byte[] {1}, T0);
      AckBatches acks = new AckBatches(hosts, neverRuns());
      acks.acked("web-1", 7);
      db.execute("ALTER TABLE hosts RENAME COLUMN acked_revision TO acked_revision_away");

      assertThrows(StoreException.class, acks::flush);

      db.execute("ALTER TABLE hosts RENAME COLUMN acked_revision_away TO acked_revision");
      assertEquals(1, acks.flush());
      assertEquals(7, hosts.find("web-1").orElseThrow().ackedRevision());
    }
  }

  /** A scheduler whose worker never starts: the tests flush by hand, never the timer. */
  private static ScheduledExecutorService neverRuns() {
    return Executors.newSingleThreadScheduledExecutor(runnable -> new Thread(() -> {}));
  }
}
