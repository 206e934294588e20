package io.infraveil.controlplane.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.proto.v1.DeployTimings;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.PipelinePhase;
import io.infraveil.proto.v1.PipelineRun;
import io.infraveil.proto.v1.PipelineStage;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A deploy's phases, from the control plane's own moments and the agent's DeployTimings. */
class PipelineTelemetryPhasesTest {

  private static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");
  private static final String SHA = "ab".repeat(32);

  private Instant now = T0;
  private final PipelineTelemetry telemetry = new PipelineTelemetry(new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  });

  @Test
  void everyPhaseOfADeployIsMeasuredInOrderAndTheHealthyStepSaysWhereTheTimeWent() {
    List<PipelineTelemetry.StepReached> heard = new ArrayList<>();
    telemetry.addListener(heard::add);
    PayloadRef payload = PayloadRef.newBuilder().setSha256(SHA).build();

    now = T0.plusMillis(30); // stored 30 ms after the stream began, last byte at 20 ms
    telemetry.uploaded(SHA, "v2", "spiffe://t/operator/alice", T0, T0.plusMillis(20));
    now = T0.plusMillis(100);
    telemetry.placed("web-1", DesiredState.newBuilder().setRevision(7).addAgents(
        DesiredAgent.newBuilder().setDeployment("web").setPayload(payload).setGeneration(2)).build());

    DeployTimings timings = DeployTimings.newBuilder()
        .setAgentStartedAt(at(400)).setAgentReadyAt(at(1_400)).setPayloadVerifiedAt(at(1_500))
        .setReleaseReadyAt(at(1_700)).setServicesStartedAt(at(1_750)).build();
    now = T0.plusMillis(1_800);
    telemetry.heartbeat(report(payload, timings, HealthStatus.HEALTH_STATUS_UNKNOWN));
    assertEquals(List.of("upload", "seal", "placement", "sync_fetch_handover", "agent_start",
        "verify", "extract", "stop_and_start"), names(run()),
        "phases known so far; the health check and the report not yet");

    now = T0.plusMillis(4_000);
    telemetry.heartbeat(report(payload, timings.toBuilder().setFirstHealthyAt(at(3_900)).build(),
        HealthStatus.HEALTH_STATUS_HEALTHY));

    Map<String, Long> expected = new LinkedHashMap<>();
    expected.put("upload", 20L);
    expected.put("seal", 10L);
    expected.put("placement", 70L);
    expected.put("sync_fetch_handover", 300L);
    expected.put("agent_start", 1_000L);
    expected.put("verify", 100L);
    expected.put("extract", 200L);
    expected.put("stop_and_start", 50L);
    expected.put("first_health_check", 2_150L);
    expected.put("report", 100L);
    Map<String, Long> measured = new LinkedHashMap<>();
    run().getPhasesList().forEach(p -> measured.put(p.getName(), p.getMillis()));
    assertEquals(expected, measured);

    PipelineTelemetry.StepReached healthy = heard.get(heard.size() - 1);
    assertEquals(PipelineStage.PIPELINE_STAGE_HEALTHY, healthy.step().getStage());
    assertTrue(healthy.step().getDetail().contains("4000 ms from upload: upload 20, seal 10, placement 70,"
        + " sync_fetch_handover 300, agent_start 1000, verify 100, extract 200, stop_and_start 50,"
        + " first_health_check 2150, report 100 (ms)"), healthy.step().getDetail());
  }

  @Test
  void hostClocksAheadOfTheControlPlaneNeverMakeAPhaseNegative() {
    PayloadRef payload = PayloadRef.newBuilder().setSha256(SHA).build();
    now = T0.plusMillis(500);
    telemetry.placed("web-1", DesiredState.newBuilder().setRevision(1).addAgents(
        DesiredAgent.newBuilder().setDeployment("web").setPayload(payload)).build());
    telemetry.heartbeat(report(payload, DeployTimings.newBuilder().setAgentStartedAt(at(100))
        .setAgentReadyAt(at(200)).setReleaseReadyAt(at(300)).build(), HealthStatus.HEALTH_STATUS_UNKNOWN));
    PipelinePhase sync = run().getPhases(0);
    assertEquals("sync_fetch_handover", sync.getName());
    assertEquals(0, sync.getMillis());
  }

  private PipelineRun run() {
    return telemetry.runs().get(0);
  }

  private static List<String> names(PipelineRun run) {
    return run.getPhasesList().stream().map(PipelinePhase::getName).toList();
  }

  private ReportIngest.AgentReport report(PayloadRef payload, DeployTimings timings, HealthStatus health) {
    return new ReportIngest.AgentReport("web-1", now, HeartbeatRequest.newBuilder().setHostName("web-1")
        .setDeployment("web").setPayload(payload).setDeployTimings(timings)
        .addServices(ServiceStatus.newBuilder().setName("api").setState(ServiceState.SERVICE_STATE_RUNNING)
            .setHealth(health))
        .build());
  }

  private static Timestamp at(long millis) {
    Instant at = T0.plusMillis(millis);
    return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
  }
}
