package io.infraveil.controlplane.incidents;

import io.infraveil.host.time.MutableClock;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.ops.Evidence;
import io.infraveil.controlplane.store.SecurityEventStore.SecurityEventRecord;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.EvidenceSource;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import io.infraveil.proto.v1.VersionStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The incident engine and its rules with a fake clock and an in-memory store. */
class IncidentsTest {

  static final Duration INTERVAL = Duration.ofSeconds(10);

  final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));
  final HostLiveness liveness = new HostLiveness(clock);
  final Map<String, String> desired = new ConcurrentHashMap<>();
  final InMemoryIncidentStore store = new InMemoryIncidentStore();
  final List<String> transitions = new ArrayList<>();
  final List<Evidence> recorded = new ArrayList<>();

  Incidents engine(IncidentStore store) {
    liveness.setReportInterval(INTERVAL);
    var desiredSha = (java.util.function.BiFunction<String, String, Optional<String>>)
        (host, deployment) -> Optional.ofNullable(desired.get(host + "/" + deployment));
    Incidents incidents = new Incidents(List.of(new HostOfflineRule(liveness), new AgentSuspendedRule(),
        new ServiceFailedRule(), new RolledBackRule(desiredSha), new PayloadRejectedRule(desiredSha),
        new AuthFailuresRule(3, Duration.ofMinutes(1))), store, (finding, at) -> List.copyOf(recorded), clock,
        new SplittableRandom(1), INTERVAL.multipliedBy(3));
    incidents.addListener(new Incidents.Listener() {
      @Override
      public void opened(Incident incident) {
        transitions.add("opened " + incident.getRule() + " " + incident.getHostName());
      }

      @Override
      public void resolved(Incident incident) {
        transitions.add("resolved " + incident.getRule() + " " + incident.getHostName());
      }
    });
    return incidents;
  }

  void report(Incidents incidents, String host) {
    HostReport report = HostReport.getDefaultInstance();
    liveness.reported(host, report);
    incidents.hostReported(host, report);
  }

  @Test
  void hostThatStopsReportingIsOfflineAfterThreeIntervalsAndResolvesWhenItReportsAgain() {
    Incidents incidents = engine(store);
    report(incidents, "web-1");

    clock.advance(INTERVAL.multipliedBy(3).minusMillis(1));
    incidents.evaluate();
    assertEquals(List.of(), incidents.list(true), "2.99 intervals of silence is not yet offline");

    clock.advance(Duration.ofMillis(1));
    incidents.evaluate();
    List<Incident> open = incidents.list(true);
    assertEquals(1, open.size());
    assertEquals("HOST_OFFLINE", open.get(0).getRule());
    assertEquals("web-1", open.get(0).getHostName());
    assertEquals(IncidentState.INCIDENT_STATE_OPEN, open.get(0).getState());
    assertTrue(open.get(0).getSummary().contains("missed 3 report intervals"), open.get(0).getSummary());

    clock.advance(INTERVAL);
    incidents.evaluate();
    assertEquals(1, incidents.list(false).size(), "still one incident, not a new one per check");

    report(incidents, "web-1");
    assertEquals(List.of(), incidents.list(true));
    Incident resolved = incidents.list(false).get(0);
    assertEquals(IncidentState.INCIDENT_STATE_RESOLVED, resolved.getState());
    assertEquals(clock.instant(), ProtoTime.instant(resolved.getResolvedAt()));
    assertEquals(List.of("opened HOST_OFFLINE web-1", "resolved HOST_OFFLINE web-1"), transitions);
    assertEquals(IncidentState.INCIDENT_STATE_RESOLVED, store.load(10).get(0).incident().getState());
  }

  @Test
  void rollbackOpensWithCorrelatedEvidenceAndResolvesWhenTheDesiredVersionRunsHealthy() {
    desired.put("web-1/shop", "bbbb");
    recorded.add(new Evidence(clock.instant().minusSeconds(30), EvidenceSource.EVIDENCE_SOURCE_CONSOLE, "web-1",
        "shop", "api", "", "[web-1 shop/api#0 stderr] cannot bind port 4000"));
    recorded.add(new Evidence(clock.instant().minusSeconds(30), EvidenceSource.EVIDENCE_SOURCE_CONSOLE, "web-2",
        "shop", "api", "", "another host's line"));
    recorded.add(new Evidence(clock.instant().minus(Duration.ofMinutes(5)), EvidenceSource.EVIDENCE_SOURCE_CONSOLE,
        "web-1", "shop", "api", "", "a line from long before"));
    Incidents incidents = engine(store);

    incidents.event(new ReportIngest.ReceivedEvent("web-1", clock.instant(), HostEvent.newBuilder()
        .setKind(EventKind.EVENT_KIND_ROLLED_BACK).setDeployment("shop").setReason("DEPLOY_FAILURES")
        .setPayload(PayloadRef.newBuilder().setSha256("aaaa")).build(), ReportIngest.Origin.AGENT));
    incidents.agentReported(report("web-1", "shop", "aaaa", VersionStatus.VERSION_STATUS_KNOWN_GOOD,
        ServiceState.SERVICE_STATE_RUNNING));

    Incident open = incidents.list(true).get(0);
    assertEquals("ROLLED_BACK", open.getRule());
    assertEquals("shop", open.getDeployment());
    assertEquals(List.of("[web-1 shop/api#0 stderr] cannot bind port 4000"),
        open.getTimelineList().stream().map(t -> t.getText()).toList(),
        "only this host's console line within ±2 min");

    incidents.evidence(new Evidence(clock.instant(), EvidenceSource.EVIDENCE_SOURCE_SECURITY, "web-1", "", "", "",
        "later evidence"));
    assertEquals(2, incidents.list(true).get(0).getTimelineCount(), "evidence extends an open incident");

    desired.put("web-1/shop", "aaaa"); // the operator rolled the deployment back to what runs
    incidents.agentReported(report("web-1", "shop", "aaaa", VersionStatus.VERSION_STATUS_KNOWN_GOOD,
        ServiceState.SERVICE_STATE_RUNNING));
    assertEquals(List.of(), incidents.list(true));
    assertEquals(List.of("opened ROLLED_BACK web-1", "resolved ROLLED_BACK web-1"), transitions);
  }

  @Test
  void failedServiceOpensAndResolvesWhenRunningAgain() {
    Incidents incidents = engine(store);
    incidents.agentReported(report("web-1", "shop", "aaaa", VersionStatus.VERSION_STATUS_KNOWN_GOOD,
        ServiceState.SERVICE_STATE_FAILED));
    assertEquals("SERVICE_FAILED", incidents.list(true).get(0).getRule());
    assertEquals("api", incidents.list(true).get(0).getService());
    incidents.agentReported(report("web-1", "shop", "aaaa", VersionStatus.VERSION_STATUS_KNOWN_GOOD,
        ServiceState.SERVICE_STATE_RUNNING));
    assertEquals(List.of("opened SERVICE_FAILED web-1", "resolved SERVICE_FAILED web-1"), transitions);
  }

  // A service that failed after OOM kills says so in the incident, with its memory limit.
  @Test
  void failedServiceKilledForMemorySaysOomWithTheLimit() {
    Incidents incidents = engine(store);
    HeartbeatRequest heartbeat = heartbeat("web-1", "shop", "aaaa", VersionStatus.VERSION_STATUS_CANDIDATE,
        ServiceState.SERVICE_STATE_FAILED);
    heartbeat = heartbeat.toBuilder().setServices(0, heartbeat.getServices(0).toBuilder()
        .setRestartsInWindow(8).setReason("BUDGET_EXHAUSTED").setOomKills(9)
        .setMemoryLimitBytes(16L << 20)).build();
    incidents.agentReported(new ReportIngest.AgentReport("web-1", clock.instant(), heartbeat));
    assertEquals("service api of shop on web-1 FAILED after 8 restarts: BUDGET_EXHAUSTED;"
        + " OOM-killed 9 times at its memory limit 16Mi", incidents.list(true).get(0).getSummary());
  }

  @Test
  void authorizationFailuresOpenAtTheThresholdAndResolveWhenTheWindowPasses() {
    Incidents incidents = engine(store);
    for (int i = 0; i < 2; i++) {
      incidents.securityEvent(new SecurityEventRecord(clock.instant(), "PERMISSION_DENIED",
          "spiffe://t/host/web-9", "m", "refused", null));
    }
    assertEquals(List.of(), incidents.list(true), "2 failures are below the threshold of 3");
    incidents.securityEvent(new SecurityEventRecord(clock.instant(), "PERMISSION_DENIED",
        "spiffe://t/host/web-9", "m", "refused", null));
    Incident open = incidents.list(true).get(0);
    assertEquals("CERTIFICATE_OR_AUTHORIZATION", open.getRule());
    assertEquals("web-9", open.getHostName());
    clock.advance(Duration.ofMinutes(1).plusSeconds(1));
    incidents.evaluate();
    assertEquals(List.of(), incidents.list(true));
  }

  @Test
  void incidentsOpenWhenTheControlPlaneStoppedStayOpenThroughTheGracePeriod() {
    Incidents first = engine(store);
    report(first, "web-1");
    clock.advance(INTERVAL.multipliedBy(4));
    first.evaluate();
    assertEquals(1, first.list(true).size());

    // A restarted control plane has heard nothing from web-1: it stays offline until it reports.
    HostLiveness fresh = new HostLiveness(clock);
    Incidents second = new Incidents(List.of(new HostOfflineRule(fresh)), store, (f, at) -> List.of(), clock,
        new SplittableRandom(2), INTERVAL.multipliedBy(3));
    clock.advance(INTERVAL.multipliedBy(10));
    second.evaluate();
    assertEquals(1, second.list(true).size());
    fresh.reported("web-1", HostReport.getDefaultInstance());
    second.hostReported("web-1", HostReport.getDefaultInstance());
    assertEquals(List.of(), second.list(true));
  }

  /**
   * Event-driven incidents (a rollback, a rejected payload) survive a control-plane restart: the
   * event that opened them is not sent again, so they stay open until their own resolution.
   */
  @Test
  void rollbackAndRejectionOpenAtRestartStayOpenUntilTheirOwnResolution() {
    desired.put("web-1/shop", "bbbb");
    desired.put("web-2/shop", "bbbb");
    Incidents first = engine(store);
    first.event(new ReportIngest.ReceivedEvent("web-1", clock.instant(), HostEvent.newBuilder()
        .setKind(EventKind.EVENT_KIND_ROLLED_BACK).setDeployment("shop")
        .setPayload(PayloadRef.newBuilder().setSha256("bbbb")).build(), ReportIngest.Origin.AGENT));
    first.event(new ReportIngest.ReceivedEvent("web-2", clock.instant(), HostEvent.newBuilder()
        .setKind(EventKind.EVENT_KIND_PAYLOAD_REJECTED).setDeployment("shop")
        .setPayload(PayloadRef.newBuilder().setSha256("bbbb")).build(), ReportIngest.Origin.LAUNCHER));
    first.evaluate();
    assertEquals(2, first.list(true).size());

    transitions.clear();
    Incidents second = engine(store);
    clock.advance(INTERVAL.multipliedBy(10)); // well past the restart grace
    second.agentReported(report("web-1", "shop", "aaaa", VersionStatus.VERSION_STATUS_KNOWN_GOOD,
        ServiceState.SERVICE_STATE_RUNNING));
    second.evaluate();
    assertEquals(List.of("PAYLOAD_REJECTED", "ROLLED_BACK"),
        second.list(true).stream().map(Incident::getRule).sorted().toList(),
        "web-1 still runs the old version and web-2's rejected payload is still desired");

    second.agentReported(report("web-1", "shop", "bbbb", VersionStatus.VERSION_STATUS_KNOWN_GOOD,
        ServiceState.SERVICE_STATE_RUNNING));
    second.event(new ReportIngest.ReceivedEvent("web-2", clock.instant(), HostEvent.newBuilder()
        .setKind(EventKind.EVENT_KIND_PAYLOAD_VERIFIED).setDeployment("shop")
        .setPayload(PayloadRef.newBuilder().setSha256("bbbb")).build(), ReportIngest.Origin.LAUNCHER));
    second.evaluate();
    assertEquals(List.of(), second.list(true));
  }

  @Test
  void rolloutIsStuckWhenPlacedHostsDoNotRunTheNewVersionInTimeAndResolvesWhenTheyDo() {
    RolloutStuckRule rule = new RolloutStuckRule(Duration.ofMinutes(10));
    Incidents incidents = new Incidents(List.of(rule), store, (f, at) -> List.of(), clock, new SplittableRandom(3),
        Duration.ZERO);
    Instant changed = clock.instant();
    rule.refresh(List.of(new RolloutStuckRule.Rollout("shop", "bbbb", "v2", changed, false,
        List.of("web-1", "web-2"), Map.of("web-1", "bbbb", "web-2", "aaaa"))));
    clock.advance(Duration.ofMinutes(10).minusSeconds(1));
    incidents.evaluate();
    assertEquals(List.of(), incidents.list(true), "within the allowed time");

    clock.advance(Duration.ofSeconds(1));
    incidents.evaluate();
    Incident stuck = incidents.list(true).get(0);
    assertEquals("ROLLOUT_STUCK", stuck.getRule());
    assertEquals("shop", stuck.getDeployment());
    assertTrue(stuck.getSummary().contains("1 of 2 placed hosts") && stuck.getSummary().contains("web-2"),
        stuck.getSummary());

    rule.refresh(List.of(new RolloutStuckRule.Rollout("shop", "bbbb", "v2", changed, false,
        List.of("web-1", "web-2"), Map.of("web-1", "bbbb", "web-2", "bbbb"))));
    incidents.evaluate();
    assertEquals(List.of(), incidents.list(true));
  }

  @Test
  void pausedRolloutIsNeverStuck() {
    RolloutStuckRule rule = new RolloutStuckRule(Duration.ofMinutes(10));
    rule.refresh(List.of(new RolloutStuckRule.Rollout("shop", "bbbb", "v2", clock.instant(), true,
        List.of("web-1"), Map.of())));
    clock.advance(Duration.ofHours(1));
    assertEquals(List.of(), rule.findings(clock.instant()));
  }

  ReportIngest.AgentReport report(String host, String deployment, String sha, VersionStatus status,
      ServiceState state) {
    return new ReportIngest.AgentReport(host, clock.instant(), heartbeat(host, deployment, sha, status, state));
  }

  static HeartbeatRequest heartbeat(String host, String deployment, String sha, VersionStatus status,
      ServiceState state) {
    return HeartbeatRequest.newBuilder().setHostName(host).setDeployment(deployment)
        .setPayload(PayloadRef.newBuilder().setSha256(sha)).setVersionStatus(status)
        .addServices(ServiceStatus.newBuilder().setName("api").setState(state)
            .setHealth(state == ServiceState.SERVICE_STATE_RUNNING ? HealthStatus.HEALTH_STATUS_HEALTHY
                : HealthStatus.HEALTH_STATUS_UNHEALTHY))
        .build();
  }
}
