package io.infraveil.controlplane.incidents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.proto.v1.EvidenceSource;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.TimelineEntry;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What every incident store promises; each implementation runs these through a subclass. */
abstract class IncidentStoreContract {

  /** A fresh, empty store. */
  abstract IncidentStore store() throws Exception;

  /** Makes writes that may be batched visible to {@link IncidentStore#load}. */
  void flush() {}

  static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

  static Incident incident(String id, int minutes) {
    return Incident.newBuilder().setId(id).setRule("ROLLED_BACK").setState(IncidentState.INCIDENT_STATE_OPEN)
        .setSummary("summary of " + id).setHostName("web-1").setDeployment("shop")
        .setOpenedAt(ProtoTime.timestamp(T0.plusSeconds(60L * minutes)))
        .addTimeline(TimelineEntry.newBuilder().setAt(ProtoTime.timestamp(T0))
            .setSource(EvidenceSource.EVIDENCE_SOURCE_AGENT).setText("first evidence"))
        .build();
  }

  @Test
  void anOpenedIncidentLoadsBackWithItsKeyAndTimeline() throws Exception {
    IncidentStore store = store();
    store.opened("ROLLED_BACK|web-1|shop||", incident("inc-1", 0));
    store.appended("inc-1", TimelineEntry.newBuilder().setAt(ProtoTime.timestamp(T0.plusSeconds(5)))
        .setSource(EvidenceSource.EVIDENCE_SOURCE_CONSOLE).setText("a console line").build());
    flush();
    List<IncidentStore.Stored> loaded = store.load(10);
    assertEquals(1, loaded.size());
    assertEquals("ROLLED_BACK|web-1|shop||", loaded.get(0).key());
    Incident back = loaded.get(0).incident();
    assertEquals(IncidentState.INCIDENT_STATE_OPEN, back.getState());
    assertEquals("summary of inc-1", back.getSummary());
    assertEquals(List.of("first evidence", "a console line"),
        back.getTimelineList().stream().map(TimelineEntry::getText).toList());
  }

  @Test
  void resolvedIncidentsCarryTheirTimeAndOnlyTheRecentOnesLoad() throws Exception {
    IncidentStore store = store();
    for (int i = 1; i <= 4; i++) {
      store.opened("ROLLED_BACK|web-" + i + "|shop||", incident("inc-" + i, i));
    }
    store.resolved("inc-1", T0.plusSeconds(600));
    store.resolved("inc-2", T0.plusSeconds(700));
    store.resolved("inc-3", T0.plusSeconds(800));
    flush();
    List<IncidentStore.Stored> loaded = store.load(2);
    assertEquals(List.of("inc-4", "inc-3", "inc-2"),
        loaded.stream().map(s -> s.incident().getId()).toList(),
        "every open incident, then the 2 most recent resolved ones, newest first");
    Incident resolved = loaded.get(1).incident();
    assertEquals(IncidentState.INCIDENT_STATE_RESOLVED, resolved.getState());
    assertEquals(T0.plusSeconds(800), ProtoTime.instant(resolved.getResolvedAt()));
  }

  @Test
  void aSecondOpenIncidentForOneKeyIsRefusedAndTheOpenOneAnswered() throws Exception {
    IncidentStore store = store();
    String key = "ROLLED_BACK|web-1|shop||";
    IncidentStore.Stored first = store.opened(key, incident("inc-1", 0));
    assertEquals("inc-1", first.incident().getId());
    IncidentStore.Stored second = store.opened(key, incident("inc-2", 1));
    assertEquals("inc-1", second.incident().getId(), "another leader's incident for the key is the open one");
    assertEquals(List.of("first evidence"),
        second.incident().getTimelineList().stream().map(TimelineEntry::getText).toList());
    flush();
    assertEquals(List.of("inc-1"), store.load(10).stream().map(s -> s.incident().getId()).toList(),
        "nothing of the refused incident was written");
  }

  @Test
  void onceResolvedTheKeyOpensANewIncident() throws Exception {
    IncidentStore store = store();
    String key = "ROLLED_BACK|web-1|shop||";
    store.opened(key, incident("inc-1", 0));
    store.resolved("inc-1", T0.plusSeconds(120));
    store.resolved("inc-1", T0.plusSeconds(999)); // a second leader resolving it changes nothing
    assertEquals("inc-2", store.opened(key, incident("inc-2", 3)).incident().getId());
    flush();
    List<IncidentStore.Stored> loaded = store.load(10);
    assertEquals(List.of("inc-2", "inc-1"), loaded.stream().map(s -> s.incident().getId()).toList());
    assertEquals(T0.plusSeconds(120), ProtoTime.instant(loaded.get(1).incident().getResolvedAt()));
  }

  // A replica following the store reads it again only when this mark moved: every opening,
  // timeline entry and resolution moves it; reading does not.
  @Test
  void theChangeMarkMovesWithEveryWriteAndOnlyThen() throws Exception {
    IncidentStore store = store();
    String empty = store.changeMark();
    store.opened("ROLLED_BACK|web-1|shop||", incident("inc-1", 0));
    String opened = store.changeMark();
    assertNotEquals(empty, opened);
    store.load(10);
    assertEquals(opened, store.changeMark());
    store.appended("inc-1", TimelineEntry.newBuilder().setAt(ProtoTime.timestamp(T0.plusSeconds(5)))
        .setSource(EvidenceSource.EVIDENCE_SOURCE_CONSOLE).setText("a console line").build());
    flush();
    String appended = store.changeMark();
    assertNotEquals(opened, appended);
    store.resolved("inc-1", T0.plusSeconds(60));
    assertNotEquals(appended, store.changeMark());
  }
}
