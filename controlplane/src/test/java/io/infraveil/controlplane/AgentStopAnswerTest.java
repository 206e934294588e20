package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.incidents.Incidents;
import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.proto.v1.AgentReportServiceGrpc;
import io.infraveil.proto.v1.DeleteDeploymentRequest;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HeartbeatResponse;
import io.infraveil.proto.v1.ListIncidentsRequest;
import io.infraveil.proto.v1.LogLine;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.PutDeploymentRequest;
import io.infraveil.proto.v1.ShipLogsRequest;
import io.infraveil.proto.v1.ShipLogsResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent still reporting for a deployment that was just deleted (or moved away) is told to
 * stop, over real mTLS gRPC: no security event, no authorization incident, nothing recorded.
 */
class AgentStopAnswerTest {

  @TempDir Path dir;
  OpsHarness harness;
  OpsHarness.EnrolledHost web1;
  String sha;

  @BeforeEach
  void start() throws Exception {
    harness = new OpsHarness(dir, Map.of());
    web1 = harness.enroll("web-1");
    harness.enroll("web-2");
    sha = harness.deploy("shop", "v1", "web-1");
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  private HeartbeatRequest heartbeat(long sequence, String claimedHost) {
    return HeartbeatRequest.newBuilder().setHostName(claimedHost).setDeployment("shop").setSequence(sequence)
        .setPayload(PayloadRef.newBuilder().setSha256(sha)).setSentAt(ProtoTime.timestamp(Instant.now())).build();
  }

  /** Sends heartbeats on one stream as an agent would; returns each answer (or the error). */
  private List<Object> heartbeats(int count, String claimedHost) throws Exception {
    LinkedBlockingQueue<Object> answers = new LinkedBlockingQueue<>();
    var requests = AgentReportServiceGrpc.newStub(harness.channel(web1.credential())).heartbeat(
        new io.grpc.stub.StreamObserver<>() {
          @Override
          public void onNext(HeartbeatResponse value) {
            answers.add(value);
          }

          @Override
          public void onError(Throwable t) {
            answers.add(t);
          }

          @Override
          public void onCompleted() {}
        });
    List<Object> received = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      requests.onNext(heartbeat(i, claimedHost));
      Object answer = answers.poll(20, TimeUnit.SECONDS);
      received.add(answer);
      if (!(answer instanceof HeartbeatResponse)) {
        break;
      }
    }
    requests.onCompleted();
    return received;
  }

  private ShipLogsResponse shipLogs() throws Exception {
    CompletableFuture<ShipLogsResponse> done = new CompletableFuture<>();
    var requests = AgentReportServiceGrpc.newStub(harness.channel(web1.credential()))
        .shipLogs(OpsHarness.observer(done));
    requests.onNext(ShipLogsRequest.newBuilder().setHostName("web-1").setDeployment("shop")
        .addLines(LogLine.newBuilder().setService("api").setText("shutting down").setSequence(1)).build());
    requests.onCompleted();
    return done.get(20, TimeUnit.SECONDS);
  }

  private long securityEvents() {
    return harness.controlPlane.bean(SecurityEventStore.class).recent(100).size();
  }

  @Test
  void heartbeatsAfterADeleteAreToldToStopWithoutASecurityEventOrIncident() throws Exception {
    HeartbeatResponse placed = (HeartbeatResponse) heartbeats(1, "web-1").get(0);
    assertFalse(placed.getStop(), "a placed deployment's agent carries on");
    long eventsBefore = securityEvents();

    harness.operator().deleteDeployment(DeleteDeploymentRequest.newBuilder().setName("shop").build());
    List<Object> answers = heartbeats(10, "web-1");

    assertEquals(10, answers.size(), answers.toString());
    for (int i = 0; i < answers.size(); i++) {
      HeartbeatResponse answer = (HeartbeatResponse) answers.get(i);
      assertEquals(i + 1, answer.getAckedSequence());
      assertTrue(answer.getStop());
      assertEquals("deployment shop was deleted: stop its services and exit; nothing more is recorded for it",
          answer.getStopReason());
    }
    ShipLogsResponse logs = shipLogs();
    assertTrue(logs.getStop());
    assertEquals(0, logs.getAccepted());
    assertEquals(eventsBefore, securityEvents(), "stopping agents are not refused callers");
    harness.controlPlane.bean(Incidents.class).evaluate();
    assertEquals(0, harness.operator().listIncidents(ListIncidentsRequest.newBuilder().setOpenOnly(true).build())
        .getIncidentsList().stream().filter(i -> i.getRule().equals("CERTIFICATE_OR_AUTHORIZATION")).count());
  }

  @Test
  void aDeploymentMovedToAnotherHostTellsTheOldAgentToStop() throws Exception {
    harness.operator().putDeployment(PutDeploymentRequest.newBuilder().setName("shop").setPayloadSha256(sha)
        .addHosts("web-2").build());

    HeartbeatResponse answer = (HeartbeatResponse) heartbeats(1, "web-1").get(0);

    assertTrue(answer.getStop());
    assertEquals("deployment shop is no longer placed on host web-1: stop its services and exit; nothing more"
        + " is recorded for it here", answer.getStopReason());
  }

  @Test
  void reportingForAnotherHostIsStillRefusedAndRecorded() throws Exception {
    long eventsBefore = securityEvents();

    Object answer = heartbeats(1, "web-2").get(0);

    assertTrue(answer instanceof StatusRuntimeException, String.valueOf(answer));
    Status status = ((StatusRuntimeException) answer).getStatus();
    assertEquals(Status.Code.PERMISSION_DENIED, status.getCode());
    assertEquals("host web-1 may not report for host web-2: agents report only for their own host",
        status.getDescription());
    assertEquals(eventsBefore + 1, securityEvents());
  }
}
