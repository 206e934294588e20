package io.infraveil.controlplane.incidents;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.host.time.MutableClock;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Two replicas' incident engines over one store, each with its own view of the hosts, and a
 * leader term that moves between them (a fake clock throughout): only the leader opens and
 * resolves, a new leader carries on the incident open at the hand-over instead of opening it
 * again or dropping it, and two leaders overlapping still open one incident.
 */
class IncidentsHandOverTest {

  static final Duration INTERVAL = Duration.ofSeconds(10);

  final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));
  final InMemoryIncidentStore store = new InMemoryIncidentStore();
  final List<String> heard = new CopyOnWriteArrayList<>();

  /** One replica: its own liveness (hosts report to the replica they are connected to). */
  final class Replica {
    final String name;
    final AtomicLong term = new AtomicLong();
    final HostLiveness liveness = new HostLiveness(clock);
    final Incidents incidents;

    Replica(String name, long seed) {
      this.name = name;
      liveness.setReportInterval(INTERVAL);
      incidents = new Incidents(List.of(new HostOfflineRule(liveness)), store, (finding, at) -> List.of(), clock,
          new SplittableRandom(seed), INTERVAL.multipliedBy(3), term::get);
      incidents.addListener(new Incidents.Listener() {
        @Override
        public void opened(Incident incident) {
          heard.add(name + " opened " + incident.getId());
        }

        @Override
        public void resolved(Incident incident) {
          heard.add(name + " resolved " + incident.getId());
        }
      });
    }

    void hostReports(String host) {
      HostReport report = HostReport.getDefaultInstance();
      liveness.reported(host, report);
      incidents.hostReported(host, report);
    }
  }

  List<Incident> stored() {
    return store.load(100).stream().map(IncidentStore.Stored::incident).toList();
  }

  @Test
  void aNewLeaderCarriesOnTheOpenIncidentAndResolvesItWhenTheHostIsBack() {
    Replica a = new Replica("a", 1);
    Replica b = new Replica("b", 2);
    a.term.set(1);
    a.hostReports("web-1"); // web-1 is connected to a
    clock.advance(INTERVAL.multipliedBy(3));
    a.incidents.evaluate();
    b.incidents.evaluate(); // a follower: its rules run, nothing opens or resolves
    assertEquals(1, stored().size());
    String id = stored().get(0).getId();
    b.incidents.followStore();
    assertEquals(List.of(id), b.incidents.list(true).stream().map(Incident::getId).toList(), "b shows what a opened");

    // a dies; b leads in term 2. b never heard from web-1: only the restored incident says it is offline.
    a.term.set(0);
    b.term.set(2);
    b.incidents.evaluate();
    clock.advance(INTERVAL.multipliedBy(10)); // well past the hand-over grace
    b.incidents.evaluate();
    a.incidents.evaluate();
    assertEquals(List.of(id), stored().stream().map(Incident::getId).toList(), "neither duplicated nor lost");
    assertEquals(IncidentState.INCIDENT_STATE_OPEN, stored().get(0).getState());

    b.hostReports("web-1"); // web-1 reconnected to b
    assertEquals(IncidentState.INCIDENT_STATE_RESOLVED, stored().get(0).getState());
    assertEquals(1, stored().size());
    a.incidents.followStore();
    assertEquals(List.of(), a.incidents.list(true));
    assertEquals(List.of("a opened " + id, "b opened " + id, "b resolved " + id, "a resolved " + id), heard);
  }

  @Test
  void aFollowerNeitherOpensNorResolves() {
    Replica a = new Replica("a", 1);
    a.hostReports("web-1");
    clock.advance(INTERVAL.multipliedBy(5));
    a.incidents.evaluate();
    assertEquals(List.of(), stored());
    assertEquals(List.of(), a.incidents.list(true));
    assertEquals(List.of(), heard);
  }

  @Test
  void twoLeadersOverlappingOpenOneIncident() {
    Replica a = new Replica("a", 1);
    Replica b = new Replica("b", 2);
    a.term.set(1);
    b.term.set(2); // b took the lease while a has not noticed yet
    a.hostReports("web-1");
    b.hostReports("web-1");
    clock.advance(INTERVAL.multipliedBy(3));
    a.incidents.evaluate();
    b.incidents.evaluate();
    assertEquals(1, stored().size());
    String id = stored().get(0).getId();
    assertEquals(List.of(id), a.incidents.list(true).stream().map(Incident::getId).toList());
    assertEquals(List.of(id), b.incidents.list(true).stream().map(Incident::getId).toList(),
        "b carries a's incident on instead of its own");
  }
}
