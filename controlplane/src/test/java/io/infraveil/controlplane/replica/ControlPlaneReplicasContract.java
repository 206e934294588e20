package io.infraveil.controlplane.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.certs.PkiDirectory;
import io.infraveil.controlplane.ControlPlane;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.incidents.Incidents;
import io.infraveil.controlplane.incidents.IncidentStore;
import io.infraveil.controlplane.incidents.JdbcIncidentStore;
import io.infraveil.controlplane.ops.Metrics;
import io.infraveil.controlplane.ops.OperationsViews;
import io.infraveil.proto.v1.ControlPlaneReplica;
import io.infraveil.proto.v1.ControlPlaneReplicaRole;
import io.infraveil.proto.v1.GetStatusResponse;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three control planes in one JVM on one database, with a 2 s lease:
 * exactly one leads and runs the leader-only work, every replica shows all three with their
 * roles, and when the leader's renewals stop (as a kill -9 would stop them) another replica
 * leads within TTL + renew interval and carries on the incident that was open. Each engine
 * runs it through a subclass.
 */
abstract class ControlPlaneReplicasContract {

  static final Duration TTL = Duration.ofSeconds(2);
  static final Duration RENEW = Duration.ofMillis(500);

  @TempDir Path dir;
  final List<ControlPlane> started = new ArrayList<>();

  /** The properties that point every replica of one test at one fresh, shared database. */
  abstract Map<String, Object> database() throws Exception;

  /** Ends the database of the test (after the replicas stopped). */
  void closeDatabase() {}

  Map<String, Object> database;

  @BeforeEach
  void pki() throws Exception {
    database = database();
    new PkiDirectory(dir.resolve("pki"), Clock.systemUTC()).init("test.infraveil");
  }

  @AfterEach
  void stop() {
    started.forEach(ControlPlane::close);
    closeDatabase();
  }

  ControlPlane replica(String name) {
    Map<String, Object> properties = new HashMap<>(database);
    properties.put("infraveil.replica-name", name);
    properties.put("infraveil.leader-lease-ttl", TTL.toMillis() + "ms");
    properties.put("infraveil.leader-lease-renew-interval", RENEW.toMillis() + "ms");
    properties.put("infraveil.replica-heartbeat-interval", "200ms");
    properties.put("infraveil.replica-gone-after", "1s");
    properties.put("infraveil.incident-check-interval", "100ms");
    properties.put("infraveil.report-interval", "200ms");
    properties.put("infraveil.rollout-interval", "100ms");
    // Replicas of one installation are given one master key file (the database holds its fingerprint).
    properties.put("infraveil.master-key-file", dir.resolve("master.key").toString());
    ControlPlane controlPlane = ControlPlane.start(dir.resolve("data-" + name), dir.resolve("pki"), 0, properties);
    started.add(controlPlane);
    return controlPlane;
  }

  static boolean leads(ControlPlane controlPlane) {
    return controlPlane.bean(Leadership.class).isLeader();
  }

  static long rounds(ControlPlane controlPlane, String work) {
    return controlPlane.bean(Leadership.class).rounds(work);
  }

  static void await(String what, Duration within, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within " + within + ": " + what);
      Thread.sleep(20);
    }
  }

  static Map<String, ControlPlaneReplicaRole> roles(GetStatusResponse status) {
    Map<String, ControlPlaneReplicaRole> out = new java.util.TreeMap<>();
    status.getReplicasList().forEach(r -> out.put(r.getName(), r.getRole()));
    return out;
  }

  @Test
  void oneLeaderRunsTheLeaderWorkAndEveryReplicaShowsAllThree() throws Exception {
    ControlPlane a = replica("cp-a");
    ControlPlane b = replica("cp-b");
    ControlPlane c = replica("cp-c");
    await("every replica saw three live replicas at its last heartbeat", Duration.ofSeconds(5),
        () -> List.of(a, b, c).stream().allMatch(cp ->
            cp.bean(Replicas.class).lastSeen().stream().filter(r -> !r.gone()).count() == 3));
    assertTrue(leads(a), "the first replica took the free lease at its start");
    assertFalse(leads(b));
    assertFalse(leads(c));
    await("a ran incident rules and rollout rounds", Duration.ofSeconds(5),
        () -> rounds(a, Leadership.INCIDENT_RULES) > 2 && rounds(a, Leadership.ROLLOUT_ROUNDS) > 2);
    for (ControlPlane follower : List.of(b, c)) {
      for (String work : Leadership.LEADER_WORK) {
        assertEquals(0, rounds(follower, work), work + " ran on a follower");
      }
    }

    GetStatusResponse status = c.bean(OperationsViews.class).operations();
    assertEquals("cp-c", status.getAnsweredBy());
    assertEquals(Map.of("cp-a", ControlPlaneReplicaRole.CONTROL_PLANE_REPLICA_ROLE_LEADER,
        "cp-b", ControlPlaneReplicaRole.CONTROL_PLANE_REPLICA_ROLE_FOLLOWER,
        "cp-c", ControlPlaneReplicaRole.CONTROL_PLANE_REPLICA_ROLE_FOLLOWER), roles(status));
    ControlPlaneReplica leader = status.getReplicas(0);
    assertEquals("cp-a", leader.getName());
    assertEquals("localhost:" + a.grpcPort(), leader.getGrpcAddress().replaceFirst("^[^:]*:", "localhost:"));
    assertTrue(leader.getLeaderTerm() > 0);
    assertEquals(0, status.getReplicas(1).getLeaderTerm());
    assertEquals(0, leader.getHostsHeld(), "no host has a Sync stream open");

    assertTrue(a.bean(Metrics.class).scrape().contains("infraveil_controlplane_replica_role{role=\"leader\"} 1.0"));
    String followerMetrics = b.bean(Metrics.class).scrape();
    assertTrue(followerMetrics.contains("infraveil_controlplane_replica_role{role=\"follower\"} 1.0"), followerMetrics);
    assertTrue(followerMetrics.contains("infraveil_controlplane_replica_role{role=\"leader\"} 0.0"));
    assertTrue(followerMetrics.contains(
        "infraveil_controlplane_replica_leader_rounds_total{work=\"incident-rules\"} 0.0"));
    assertTrue(followerMetrics.contains("infraveil_controlplane_replica_peers{state=\"live\"} 3.0"), followerMetrics);

    // A replica that stops gives the lease up at once and shows as gone.
    a.close();
    await("another replica leads after a stopped", Duration.ofMillis(RENEW.toMillis() + 1000),
        () -> leads(b) || leads(c));
    await("a shows as gone", Duration.ofSeconds(3),
        () -> roles(b.bean(OperationsViews.class).operations()).get("cp-a")
            == ControlPlaneReplicaRole.CONTROL_PLANE_REPLICA_ROLE_GONE);
  }

  @Test
  void aDeadLeadersWorkMovesWithinTheBoundAndItsOpenIncidentIsCarriedOn() throws Exception {
    ControlPlane a = replica("cp-a");
    ControlPlane b = replica("cp-b");
    ControlPlane c = replica("cp-c");
    assertTrue(leads(a));
    // web-1 is connected to a, reports once, then falls silent: a opens HOST_OFFLINE.
    a.bean(HostLiveness.class).reported("web-1", HostReport.getDefaultInstance());
    await("a opened HOST_OFFLINE for web-1", Duration.ofSeconds(5), () -> offline(a).size() == 1);
    String id = offline(a).get(0).getId();
    await("the followers show it", Duration.ofSeconds(5),
        () -> ids(offline(b)).equals(List.of(id)) && ids(offline(c)).equals(List.of(id)));

    a.bean(Replicas.class).abandon(); // no renewal, no release: as if the process died
    long stoppedAt = System.nanoTime();
    assertFalse(leads(a), "a leads no more the moment it stops renewing");
    await("b or c leads", TTL.plus(RENEW).plusSeconds(1), () -> leads(b) || leads(c));
    Duration handOver = Duration.ofNanos(System.nanoTime() - stoppedAt);
    System.out.printf("lease hand-over after the leader stopped renewing: %d ms (TTL %d ms, renew %d ms)%n",
        handOver.toMillis(), TTL.toMillis(), RENEW.toMillis());
    ControlPlane next = leads(b) ? b : c;
    ControlPlane other = next == b ? c : b;
    assertFalse(leads(other), "exactly one new leader");

    long aRounds = rounds(a, Leadership.INCIDENT_RULES);
    long before = rounds(next, Leadership.INCIDENT_RULES);
    Thread.sleep(1500); // past the new leader's restore grace (3 report intervals)
    assertEquals(aRounds, rounds(a, Leadership.INCIDENT_RULES), "the old leader's rules stopped");
    assertTrue(rounds(next, Leadership.INCIDENT_RULES) > before, "the new leader's rules run");
    List<IncidentStore.Stored> stored = webOneOffline(next);
    assertEquals(List.of(id), stored.stream().map(s -> s.incident().getId()).toList(), "neither duplicated nor lost");
    assertEquals(IncidentState.INCIDENT_STATE_OPEN, stored.get(0).incident().getState());
    assertEquals(List.of(id), ids(offline(next)));

    // web-1 reconnects to the new leader: the incident a opened resolves there.
    next.bean(HostLiveness.class).reported("web-1", HostReport.getDefaultInstance());
    await("the carried-on incident resolves", Duration.ofSeconds(5), () -> webOneOffline(next).stream()
        .allMatch(s -> s.incident().getState() == IncidentState.INCIDENT_STATE_RESOLVED));
    assertEquals(List.of(id), webOneOffline(next).stream().map(s -> s.incident().getId()).toList());
    await("the other follower shows it resolved", Duration.ofSeconds(5), () -> offline(other).isEmpty());
  }

  static List<Incident> offline(ControlPlane controlPlane) {
    return controlPlane.bean(Incidents.class).list(true).stream()
        .filter(i -> i.getRule().equals("HOST_OFFLINE") && i.getHostName().equals("web-1")).toList();
  }

  static List<String> ids(List<Incident> incidents) {
    return incidents.stream().map(Incident::getId).toList();
  }

  static List<IncidentStore.Stored> webOneOffline(ControlPlane controlPlane) {
    return controlPlane.bean(JdbcIncidentStore.class).load(100).stream()
        .filter(s -> s.incident().getRule().equals("HOST_OFFLINE") && s.incident().getHostName().equals("web-1"))
        .toList();
  }
}
