package io.infraveil.controlplane.ingest;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.Engine;
import io.infraveil.controlplane.store.OnBothEngines;
import io.infraveil.host.time.MutableClock;
import io.infraveil.proto.v1.HostEvent;
import java.time.Instant;

/** An event is let in once per (host, process, sequence), across restarts, on H2 and PostgreSQL. */
class HostEventMarksTest {

  static HostEvent event(String instance, long sequence) {
    return HostEvent.newBuilder().setInstanceId(instance).setSequence(sequence).build();
  }

  @OnBothEngines
  void anEventSeenBeforeIsRefusedAlsoByTheNextControlPlane(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));
      HostEventMarks marks = new HostEventMarks(db.dataSource(), clock);
      assertTrue(marks.firstSeen("web-1", event("i-1", 1)));
      assertTrue(marks.firstSeen("web-1", event("i-1", 2)));
      assertFalse(marks.firstSeen("web-1", event("i-1", 2)));
      assertTrue(marks.firstSeen("web-1", event("i-2", 1)), "another process counts on its own");
      assertTrue(marks.firstSeen("web-2", event("i-1", 1)), "another host counts on its own");

      HostEventMarks restarted = new HostEventMarks(db.dataSource(), clock);
      assertFalse(restarted.firstSeen("web-1", event("i-1", 1)));
      assertFalse(restarted.firstSeen("web-1", event("i-1", 2)));
      assertTrue(restarted.firstSeen("web-1", event("i-1", 3)));
      assertFalse(new HostEventMarks(db.dataSource(), clock).firstSeen("web-1", event("i-1", 3)),
          "the stored mark was moved on, not added twice");
    }
  }
}
