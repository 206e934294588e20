package io.infraveil.controlplane.incidents;

import io.infraveil.host.time.MutableClock;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.store.StoreException;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.Incident;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * With its database gone the store fails every call, and incidents still open, resolve and
 * reach listeners live: the store is the record, not the engine.
 */
class FailingIncidentStoreTest {

  @Test
  void failingStoreRefusesEveryCall() {
    FailingIncidentStore store = new FailingIncidentStore();
    assertThrows(StoreException.class, () -> store.load(10));
    assertThrows(StoreException.class, () -> store.resolved("inc-1", Instant.EPOCH));
  }

  @Test
  void incidentsOpenAndResolveLiveWhenTheStoreFails() {
    Duration interval = Duration.ofSeconds(10);
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));
    HostLiveness liveness = new HostLiveness(clock);
    liveness.setReportInterval(interval);
    Incidents incidents = new Incidents(List.of(new HostOfflineRule(liveness)), new FailingIncidentStore(),
        (finding, at) -> List.of(), clock, new SplittableRandom(1), interval.multipliedBy(3));
    List<String> heard = new ArrayList<>();
    incidents.addListener(new Incidents.Listener() {
      @Override
      public void opened(Incident incident) {
        heard.add("opened " + incident.getRule());
      }

      @Override
      public void resolved(Incident incident) {
        heard.add("resolved " + incident.getRule());
      }
    });

    liveness.reported("web-1", HostReport.getDefaultInstance());
    incidents.hostReported("web-1", HostReport.getDefaultInstance());
    clock.advance(interval.multipliedBy(3));
    incidents.evaluate();
    assertEquals(1, incidents.list(true).size(), "opened although it could not be stored");

    liveness.reported("web-1", HostReport.getDefaultInstance());
    incidents.hostReported("web-1", HostReport.getDefaultInstance());
    assertEquals(List.of(), incidents.list(true));
    assertEquals(List.of("opened HOST_OFFLINE", "resolved HOST_OFFLINE"), heard);
  }
}
