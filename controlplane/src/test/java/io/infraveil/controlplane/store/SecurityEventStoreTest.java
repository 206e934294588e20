package io.infraveil.controlplane.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.controlplane.store.SecurityEventStore.SecurityEventRecord;
import java.time.Instant;
import java.util.List;

/** Security events counted per caller and minute, on H2 and PostgreSQL. */
class SecurityEventStoreTest {

  static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

  static SecurityEventRecord refused(Instant at, String method) {
    return new SecurityEventRecord(at, "PERMISSION_DENIED", "spiffe://t/host/web-1", method,
        "not allowed", "/127.0.0.1:50000");
  }

  @OnBothEngines
  void identicalEventsInOneMinuteShareARowAndTheNextMinuteStartsAnother(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      SecurityEventStore events = new SecurityEventStore(db.jdbc());
      assertEquals(1, events.record(refused(T0.plusSeconds(1), "/a")));
      assertEquals(2, events.record(refused(T0.plusSeconds(30), "/a")));
      assertEquals(3, events.record(refused(T0.plusSeconds(20), "/a")));
      assertEquals(1, events.record(refused(T0.plusSeconds(40), "/b")));
      assertEquals(1, events.record(refused(T0.plusSeconds(61), "/a")));

      assertEquals(3, events.rowCount());
      List<SecurityEventRecord> recent = events.recent(10);
      assertEquals(List.of("/a", "/b", "/a"), recent.stream().map(SecurityEventRecord::method).toList(),
          "newest row first");
      SecurityEventRecord counted = recent.get(2);
      assertEquals(3, counted.occurrences());
      assertEquals(T0.plusSeconds(1), counted.at(), "the first occurrence's time");
      assertEquals(T0.plusSeconds(30), counted.lastAt(), "the latest occurrence's time");
      assertEquals(2, events.recent(2).size());
    }
  }
}
