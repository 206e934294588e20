package io.infraveil.controlplane.history;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.controlplane.ops.Evidence;
import io.infraveil.controlplane.store.Engine;
import io.infraveil.controlplane.store.OnBothEngines;
import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.controlplane.store.SecurityEventStore.SecurityEventRecord;
import io.infraveil.proto.v1.EvidenceSource;
import java.time.Instant;
import java.util.List;

/** History written in batches and pruned by age, on H2 and PostgreSQL. */
class HistoryStoreTest {

  static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

  static Evidence evidence(Instant at, String text) {
    return new Evidence(at, EvidenceSource.EVIDENCE_SOURCE_AGENT, "web-1", "shop", "api", "", text);
  }

  @OnBothEngines
  void rowsAreWrittenInOneBatchAndPrunedWithIncidentsEventsAndMarks(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      HistoryStore history = new HistoryStore(db.dataSource());
      history.write(List.of(
          new HistoryRow.EvidenceRow(evidence(T0, "old line")),
          new HistoryRow.EvidenceRow(evidence(T0.plusSeconds(100), "x".repeat(5_000))),
          new HistoryRow.TimelineRow("inc-old", evidence(T0, "old entry")),
          new HistoryRow.TimelineRow("inc-open", evidence(T0, "kept: its incident is open"))));
      history.write(List.of());
      assertEquals(2, history.count());
      assertEquals(List.of(4000), db.jdbc().query("read a long line",
          "SELECT text FROM history WHERE at > ?",
          s -> s.setTimestamp(1, java.sql.Timestamp.from(T0)), r -> r.getString(1).length()),
          "a text longer than its column is cut, not refused");

      db.execute("INSERT INTO incidents (id, incident_key, rule, summary, opened_at, resolved_at)"
          + " VALUES ('inc-old', 'k1', 'HOST_OFFLINE', 's', TIMESTAMP '2026-01-01 09:00:00',"
          + " TIMESTAMP '2026-01-01 09:30:00')");
      db.execute("INSERT INTO incidents (id, incident_key, rule, summary, opened_at)"
          + " VALUES ('inc-open', 'k2', 'HOST_OFFLINE', 's', TIMESTAMP '2026-01-01 09:00:00')");
      db.execute("INSERT INTO host_event_marks (host_name, instance_id, last_sequence, seen_at)"
          + " VALUES ('web-1', 'i-1', 4, TIMESTAMP '2026-01-01 09:00:00')");
      new SecurityEventStore(db.jdbc()).record(new SecurityEventRecord(T0.minusSeconds(60),
          "PERMISSION_DENIED", "x", "/m", "no", ""));

      // history row, timeline entry and resolved incident, security event, event mark
      assertEquals(5, history.pruneBefore(T0.plusSeconds(1)));
      assertEquals(1, history.count());
      assertEquals(List.of("inc-open"), db.jdbc().query("list incidents", "SELECT id FROM incidents",
          s -> {}, r -> r.getString(1)));
      assertEquals(List.of("kept: its incident is open"), db.jdbc().query("list timeline",
          "SELECT text FROM incident_timeline", s -> {}, r -> r.getString(1)));
    }
  }
}
