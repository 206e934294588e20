package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.history.HistoryStore;
import io.infraveil.controlplane.history.HistoryWriter;
import io.infraveil.controlplane.incidents.JdbcIncidentStore;
import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.EvidenceSource;
import io.infraveil.proto.v1.GetStatusRequest;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.ListIncidentsRequest;
import io.infraveil.proto.v1.LogLine;
import io.infraveil.proto.v1.LogStream;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.RollbackDeploymentRequest;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import io.infraveil.proto.v1.VersionStatus;
import io.infraveil.proto.v1.WatchRequest;
import io.infraveil.proto.v1.WatchResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Incidents from what hosts report through the real gRPC endpoints with host credentials:
 * a rollback with the failing service's console line on its timeline, a rejected payload as a
 * security incident, and Watch telling an operator as incidents open.
 */
class IncidentFlowTest {

  @TempDir Path dir;
  OpsHarness ops;
  OpsHarness.EnrolledHost web1;
  String v1;
  String v2;

  @BeforeEach
  void start() throws Exception {
    // No rollout rounds: this test is about the host's own rollback incident, not the
    // deployment-level ROLLOUT_FAILED one a round would open beside it.
    ops = new OpsHarness(dir, Map.of("infraveil.rollout-interval", "1h"));
    web1 = ops.enroll("web-1");
    // Online (its Sync stream open): a rollout moves only hosts that are online.
    ops.sync(web1, new LinkedBlockingQueue<>());
    v1 = ops.deploy("shop", "v1", "web-1");
    v2 = ops.deploy("shop", "v2", "web-1");
  }

  @AfterEach
  void stop() throws Exception {
    ops.close();
  }

  @Test
  void rollbackIncidentHoldsTheFailingServicesConsoleLineAndRecoveryResolvesIt() throws Exception {
    LinkedBlockingQueue<WatchResponse> watched = watch("shop");
    Instant now = Instant.now();
    ops.heartbeat(web1, heartbeat(v2, VersionStatus.VERSION_STATUS_CANDIDATE, ServiceState.SERVICE_STATE_HEALING)
        .build());
    ops.shipLogs(web1, "shop", List.of(LogLine.newBuilder().setAt(ProtoTime.timestamp(now)).setService("api")
        .setStream(LogStream.LOG_STREAM_STDERR).setText("FATAL: cannot bind port 4000: address in use")
        .setPayloadSha256(v2).build()));
    ops.heartbeat(web1, heartbeat(v1, VersionStatus.VERSION_STATUS_KNOWN_GOOD, ServiceState.SERVICE_STATE_RUNNING)
        .addEvents(HostEvent.newBuilder().setAt(ProtoTime.timestamp(Instant.now()))
            .setKind(EventKind.EVENT_KIND_ROLLED_BACK).setDeployment("shop").setReason("DEPLOY_FAILURES")
            .setPayload(PayloadRef.newBuilder().setSha256(v1))
            .setMessage("rolled back from " + v2 + " to last known good " + v1))
        .build());

    List<Incident> open = ops.operator().listIncidents(ListIncidentsRequest.newBuilder().setOpenOnly(true).build())
        .getIncidentsList();
    assertEquals(1, open.size(), open.toString());
    Incident incident = open.get(0);
    assertEquals("ROLLED_BACK", incident.getRule());
    assertEquals("web-1", incident.getHostName());
    assertEquals("shop", incident.getDeployment());
    assertTrue(incident.getTimelineList().stream().anyMatch(t -> t.getSource() == EvidenceSource.EVIDENCE_SOURCE_CONSOLE
        && t.getText().contains("FATAL: cannot bind port 4000")), incident.getTimelineList().toString());
    assertTrue(incident.getTimelineList().stream().anyMatch(t -> t.getSource() == EvidenceSource.EVIDENCE_SOURCE_AGENT
        && t.getText().contains("ROLLED_BACK")), incident.getTimelineList().toString());
    assertTrue(incident.getTimelineList().stream().anyMatch(t -> t.getSource() == EvidenceSource.EVIDENCE_SOURCE_PIPELINE),
        incident.getTimelineList().toString());
    assertTrue(incident.getTimelineList().stream().anyMatch(t -> t.getSource() == EvidenceSource.EVIDENCE_SOURCE_REQUEST),
        incident.getTimelineList().toString());
    assertEquals(1, ops.operator().getStatus(GetStatusRequest.getDefaultInstance()).getIncidentsCount());
    String metrics = ops.controlPlane.bean(io.infraveil.controlplane.ops.Metrics.class).scrape();
    assertTrue(metrics.contains("infraveil_rollbacks_total 1.0"), metrics);
    assertTrue(metrics.contains("infraveil_heartbeats_total 2.0"), metrics);
    assertTrue(metrics.contains("infraveil_incidents_open 1.0"), metrics);

    WatchResponse opened = awaitIncident(watched, "incident opened");
    assertEquals("ROLLED_BACK", opened.getIncident().getRule());
    assertEquals(incident.getId(), opened.getIncident().getId());

    // Recovery: the operator rolls the deployment back to what the host runs, healthy.
    ops.operator().rollbackDeployment(RollbackDeploymentRequest.newBuilder().setName("shop").build());
    ops.heartbeat(web1, heartbeat(v1, VersionStatus.VERSION_STATUS_KNOWN_GOOD, ServiceState.SERVICE_STATE_RUNNING)
        .build());
    assertEquals(0, ops.operator().listIncidents(ListIncidentsRequest.newBuilder().setOpenOnly(true).build())
        .getIncidentsCount());
    Incident resolved = ops.operator().listIncidents(ListIncidentsRequest.getDefaultInstance()).getIncidents(0);
    assertEquals(IncidentState.INCIDENT_STATE_RESOLVED, resolved.getState());
    assertEquals(incident.getId(), awaitIncident(watched, "incident resolved").getIncident().getId());

    // Stored: the incident with its timeline, and the batched history.
    ops.controlPlane.bean(HistoryWriter.class).flush();
    var stored = ops.controlPlane.bean(JdbcIncidentStore.class).load(10);
    assertEquals(IncidentState.INCIDENT_STATE_RESOLVED, stored.get(0).incident().getState());
    assertTrue(stored.get(0).incident().getTimelineList().stream()
        .anyMatch(t -> t.getText().contains("FATAL: cannot bind port 4000")));
    assertTrue(ops.controlPlane.bean(HistoryStore.class).count() > 0);
  }

  @Test
  void rejectedPayloadOpensASecurityIncidentAndRecordsASecurityEvent() throws Exception {
    ops.heartbeat(web1, heartbeat(v1, VersionStatus.VERSION_STATUS_KNOWN_GOOD, ServiceState.SERVICE_STATE_RUNNING)
        .addEvents(HostEvent.newBuilder().setAt(ProtoTime.timestamp(Instant.now()))
            .setKind(EventKind.EVENT_KIND_PAYLOAD_REJECTED).setDeployment("shop").setReason("HASH_MISMATCH")
            .setPayload(PayloadRef.newBuilder().setSha256(v2))
            .setMessage("payload " + v2 + " decrypted to a different SHA-256; kept v1 running"))
        .build());

    Incident incident = ops.operator().listIncidents(ListIncidentsRequest.newBuilder().setOpenOnly(true).build())
        .getIncidents(0);
    assertEquals("PAYLOAD_REJECTED", incident.getRule());
    assertEquals("web-1", incident.getHostName());
    assertTrue(incident.getSummary().contains("HASH_MISMATCH"), incident.getSummary());
    assertTrue(incident.getTimelineList().stream().anyMatch(t -> t.getSource() == EvidenceSource.EVIDENCE_SOURCE_SECURITY
        && t.getText().contains("PAYLOAD_REJECTED")), incident.getTimelineList().toString());
    var events = ops.controlPlane.bean(SecurityEventStore.class).recent(10);
    assertTrue(events.stream().anyMatch(e -> e.kind().equals("PAYLOAD_REJECTED")
        && "spiffe://test.infraveil/host/web-1".equals(e.identity())), events.toString());
  }

  HeartbeatRequest.Builder heartbeat(String sha, VersionStatus status, ServiceState state) {
    return HeartbeatRequest.newBuilder().setHostName("web-1").setDeployment("shop")
        .setPayload(PayloadRef.newBuilder().setSha256(sha)).setVersionStatus(status)
        .setSentAt(ProtoTime.timestamp(Instant.now()))
        .addServices(ServiceStatus.newBuilder().setName("api").setState(state)
            .setHealth(state == ServiceState.SERVICE_STATE_RUNNING ? HealthStatus.HEALTH_STATUS_HEALTHY
                : HealthStatus.HEALTH_STATUS_UNHEALTHY));
  }

  LinkedBlockingQueue<WatchResponse> watch(String deployment) throws Exception {
    LinkedBlockingQueue<WatchResponse> received = new LinkedBlockingQueue<>();
    OperatorServiceGrpc.newStub(ops.channel(ops.pki.operator("alice"))).watch(
        WatchRequest.newBuilder().setDeployment(deployment).build(), new StreamObserver<>() {
          @Override
          public void onNext(WatchResponse value) {
            received.add(value);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    // The subscription is in place once the server answers: wait for a deployment event.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ops.controlPlane.bean(io.infraveil.controlplane.ops.WatchHub.class).subscribers() == 0) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the Watch stream never subscribed");
      }
      Thread.sleep(10);
    }
    return received;
  }

  static WatchResponse awaitIncident(LinkedBlockingQueue<WatchResponse> watched, String what) throws Exception {
    while (true) {
      WatchResponse next = watched.poll(20, TimeUnit.SECONDS);
      if (next == null) {
        throw new AssertionError("no Watch event \"" + what + "\" within 20 s");
      }
      if (next.getSource() == EvidenceSource.EVIDENCE_SOURCE_INCIDENT && next.getText().startsWith(what)) {
        return next;
      }
    }
  }
}
