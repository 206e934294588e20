package io.infraveil.controlplane.incidents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.host.time.MutableClock;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.Incident;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * HOST_OFFLINE from deadlines rather than scans, with a 5-minute window (100 s report interval)
 * walked through by an injected clock: every host that goes silent is reported once, at the
 * first evaluation at or after its deadline, never before; it resolves when it reports again,
 * also after a restart, for hosts heard through another replica, and when it is forgotten.
 */
class HostOfflineDeadlinesTest {

  static final Duration INTERVAL = Duration.ofSeconds(100);
  static final Duration WINDOW = INTERVAL.multipliedBy(3);

  final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));
  final InMemoryIncidentStore store = new InMemoryIncidentStore();
  final Map<String, List<String>> transitions = new TreeMap<>();

  Incidents engine(HostLiveness liveness, java.util.concurrent.Executor evaluator) {
    liveness.setReportInterval(INTERVAL);
    Incidents incidents = new Incidents(List.of(new HostOfflineRule(liveness)), store, (f, at) -> List.of(), clock,
        new SplittableRandom(1), WINDOW, () -> 1L, evaluator);
    incidents.addListener(new Incidents.Listener() {
      @Override
      public void opened(Incident incident) {
        transitions.computeIfAbsent(incident.getHostName(), h -> new ArrayList<>()).add("opened@" + clock.instant());
      }

      @Override
      public void resolved(Incident incident) {
        transitions.computeIfAbsent(incident.getHostName(), h -> new ArrayList<>()).add("resolved@" + clock.instant());
      }
    });
    return incidents;
  }

  static void report(HostLiveness liveness, Incidents incidents, String host) {
    liveness.reported(host, HostReport.getDefaultInstance());
    incidents.hostReported(host, HostReport.getDefaultInstance());
  }

  @Test
  void everySilentHostIsOfflineOnceAtItsDeadlineAndResolvesOnceWhenItReports() {
    HostLiveness liveness = new HostLiveness(clock);
    Incidents incidents = engine(liveness, Runnable::run);
    Instant start = clock.instant();
    // 300 hosts report once each, one per second; the even ones keep reporting every interval.
    for (int i = 0; i < 300; i++) {
      report(liveness, incidents, "h" + i);
      clock.advance(Duration.ofSeconds(1));
    }
    Map<String, Instant> lastReport = new TreeMap<>();
    for (int i = 0; i < 300; i++) {
      lastReport.put("h" + i, start.plusSeconds(i));
    }
    Instant end = start.plus(WINDOW).plusSeconds(400);
    while (clock.instant().isBefore(end)) {
      clock.advance(Duration.ofMillis(700));
      for (int i = 0; i < 300; i += 2) {
        String host = "h" + i;
        if (!clock.instant().isBefore(lastReport.get(host).plus(INTERVAL))) {
          report(liveness, incidents, host);
          lastReport.put(host, clock.instant());
        }
      }
      incidents.evaluate();
      for (int i = 1; i < 300; i += 2) {
        String host = "h" + i;
        boolean pastDeadline = !clock.instant().isBefore(lastReport.get(host).plus(WINDOW));
        assertEquals(pastDeadline ? List.of("opened@" + firstEvaluationAtOrAfter(lastReport.get(host).plus(WINDOW),
                start)) : List.of(), transitions.getOrDefault(host, List.of()), host + " at " + clock.instant());
      }
    }
    for (int i = 0; i < 300; i += 2) {
      assertEquals(List.of(), transitions.getOrDefault("h" + i, List.of()), "h" + i + " kept reporting");
    }
    assertEquals(150, incidents.list(true).size());

    // Each silent host reports again: its incident resolves, once, and it can go offline again.
    transitions.clear();
    for (int i = 1; i < 300; i += 2) {
      report(liveness, incidents, "h" + i);
    }
    incidents.evaluate();
    assertEquals(0, incidents.list(true).size());
    transitions.values().forEach(t -> assertEquals(1, t.size(), t.toString()));
    assertEquals(150, transitions.size());
    clock.advance(WINDOW);
    incidents.evaluate();
    incidents.evaluate();
    assertEquals(300, incidents.list(true).size(), "every host is offline again after a silent window");
  }

  /** The evaluations of the test above run every 700 ms after the 300 s of first reports. */
  private static Instant firstEvaluationAtOrAfter(Instant deadline, Instant start) {
    Instant at = start.plusSeconds(300);
    while (at.isBefore(deadline)) {
      at = at.plusMillis(700);
    }
    return at;
  }

  @Test
  void aHostReportingJustInTimeNeverGoesOfflineAndOnceSilentGoesOfflineOnce() {
    HostLiveness liveness = new HostLiveness(clock);
    Incidents incidents = engine(liveness, Runnable::run);
    for (int i = 0; i < 20; i++) {
      report(liveness, incidents, "web-1");
      clock.advance(WINDOW.minusMillis(1));
      incidents.evaluate();
    }
    assertEquals(Map.of(), transitions);
    clock.advance(Duration.ofMillis(1));
    for (int i = 0; i < 10; i++) {
      incidents.evaluate();
      clock.advance(Duration.ofMinutes(1));
    }
    assertEquals(1, transitions.get("web-1").size(), transitions.toString());
  }

  @Test
  void afterARestartAHostRestoredOfflineResolvesWhenItReportsAndIsWatchedAgain() {
    HostLiveness before = new HostLiveness(clock);
    Incidents first = engine(before, Runnable::run);
    report(before, first, "web-1");
    report(before, first, "web-2");
    clock.advance(WINDOW);
    first.evaluate();
    assertEquals(2, first.list(true).size());

    // A restarted control plane (fresh memory, same store): both stay offline through the grace.
    transitions.clear();
    HostLiveness after = new HostLiveness(clock);
    Incidents second = engine(after, Runnable::run);
    clock.advance(WINDOW.multipliedBy(2));
    second.evaluate();
    assertEquals(2, second.list(true).size());
    assertEquals(Map.of(), transitions, "nothing opened twice or resolved while silent");

    report(after, second, "web-1");
    assertEquals(List.of("web-2"), second.list(true).stream().map(Incident::getHostName).toList());
    clock.advance(WINDOW);
    second.evaluate();
    assertEquals(List.of("resolved@" + clock.instant().minus(WINDOW), "opened@" + clock.instant()),
        transitions.get("web-1"), "after the restart web-1 is watched again");
    assertEquals(2, second.list(true).size());
  }

  @Test
  void aHostHeardThroughAnotherReplicaGoesOfflineWhenItsStoredReportsStopAndResolvesWhenTheyMoveOn() {
    HostLiveness liveness = new HostLiveness(clock);
    Incidents incidents = engine(liveness, Runnable::run);
    // Only presence rows of another replica: no report reaches this replica's ingest.
    for (int i = 0; i < 5; i++) {
      assertTrue(liveness.adoptFromReplica("db-1", true, clock.instant(), null));
      clock.advance(INTERVAL);
      incidents.evaluate();
    }
    assertEquals(Map.of(), transitions);
    clock.advance(WINDOW);
    incidents.evaluate();
    incidents.evaluate();
    assertEquals(List.of("opened@" + clock.instant()), transitions.get("db-1"));
    clock.advance(Duration.ofSeconds(1));
    assertTrue(liveness.adoptFromReplica("db-1", true, clock.instant(), HostReport.getDefaultInstance()));
    incidents.evaluate();
    assertEquals(2, transitions.get("db-1").size(), transitions.toString());
    assertEquals(0, incidents.list(true).size());
  }

  @Test
  void aForgottenOfflineHostResolvesAndIsNotReopened() {
    HostLiveness liveness = new HostLiveness(clock);
    Incidents incidents = engine(liveness, Runnable::run);
    report(liveness, incidents, "web-1");
    clock.advance(WINDOW);
    incidents.evaluate();
    liveness.forget("web-1");
    incidents.evaluate();
    clock.advance(WINDOW.multipliedBy(2));
    incidents.evaluate();
    assertEquals(2, transitions.get("web-1").size(), transitions.toString());
  }

  @Test
  void reportsAreEvaluatedOnTheEvaluatorOnceForManyReports() {
    HostLiveness liveness = new HostLiveness(clock);
    List<Runnable> queued = new ArrayList<>();
    Incidents incidents = engine(liveness, queued::add);
    report(liveness, incidents, "web-1");
    clock.advance(WINDOW);
    for (int i = 0; i < 100; i++) {
      incidents.hostReported("web-2", HostReport.getDefaultInstance());
    }
    assertEquals(1, queued.size(), "one evaluation queued for many reports");
    assertEquals(Map.of(), transitions, "nothing evaluated on the reporting thread");
    queued.remove(0).run();
    assertEquals(1, transitions.get("web-1").size());
    incidents.hostReported("web-2", HostReport.getDefaultInstance());
    assertEquals(1, queued.size(), "a report after the evaluation started queues another");
  }

  @Test
  void aReaderSeesWhatEveryReportBeforeItsReadCausedEvenWithTheEvaluationStillQueued() {
    HostLiveness liveness = new HostLiveness(clock);
    List<Runnable> queued = new ArrayList<>();
    Incidents incidents = engine(liveness, queued::add);
    report(liveness, incidents, "web-1");
    clock.advance(WINDOW);
    report(liveness, incidents, "web-2");
    assertEquals(List.of("web-1"), incidents.list(true).stream().map(Incident::getHostName).toList());
    queued.forEach(Runnable::run);
    assertEquals(1, transitions.get("web-1").size(), "opened once: " + transitions);
  }
}
