package io.infraveil.controlplane.pipeline;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.proto.v1.DeployTimings;
import io.infraveil.proto.v1.PipelinePhase;
import io.infraveil.proto.v1.PipelineRun;
import io.infraveil.proto.v1.PipelineStage;
import io.infraveil.proto.v1.PipelineStep;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a deploy's time went: the stretches between the moments the control plane knows of
 * (its own: upload began, last byte received, stored, placed, reported healthy) and those the
 * agent reports (agent process started, ready, payload verified, release extracted, first
 * process started, first passing checks). A phase is listed once both its ends are known.
 */
final class PipelinePhases {

  private PipelinePhases() {}

  static List<PipelinePhase> of(PipelineRun run, Instant uploadBegan, Instant uploadReceived,
      DeployTimings host) {
    Instant uploaded = step(run, PipelineStage.PIPELINE_STAGE_UPLOADED);
    Instant placed = step(run, PipelineStage.PIPELINE_STAGE_PLACED);
    Instant reported = step(run, PipelineStage.PIPELINE_STAGE_HEALTHY);
    Instant agentStarted = host.hasAgentStartedAt() ? ProtoTime.instant(host.getAgentStartedAt()) : null;
    Instant ready = host.hasAgentReadyAt() ? ProtoTime.instant(host.getAgentReadyAt()) : null;
    Instant verified = host.hasPayloadVerifiedAt() ? ProtoTime.instant(host.getPayloadVerifiedAt()) : null;
    Instant extracted = host.hasReleaseReadyAt() ? ProtoTime.instant(host.getReleaseReadyAt()) : null;
    Instant started = host.hasServicesStartedAt() ? ProtoTime.instant(host.getServicesStartedAt()) : null;
    Instant healthy = host.hasFirstHealthyAt() ? ProtoTime.instant(host.getFirstHealthyAt()) : null;
    List<PipelinePhase> out = new ArrayList<>();
    add(out, "upload", uploadBegan, uploadReceived);
    add(out, "seal", uploadReceived, uploaded);
    add(out, "placement", uploaded, placed);
    // Desired state over Sync, the launcher's fetch and verify into the host's cache, the
    // previous agent handed over, the new one spawned.
    add(out, "sync_fetch_handover", placed, agentStarted);
    add(out, "agent_start", agentStarted, ready);
    add(out, "verify", ready, verified);
    add(out, "extract", verified, extracted);
    add(out, "stop_and_start", extracted, started);
    add(out, "first_health_check", started, healthy);
    add(out, "report", healthy, reported);
    return out;
  }

  /** "5210 ms from upload: upload 3, seal 5, placement 46, ... (ms)", or "" without phases. */
  static String summary(PipelineRun run) {
    if (run.getPhasesCount() == 0) {
      return "";
    }
    long total = run.getPhasesList().stream().mapToLong(PipelinePhase::getMillis).sum();
    StringBuilder out = new StringBuilder().append(total).append(" ms from ")
        .append(run.getPhases(0).getName()).append(':');
    for (PipelinePhase phase : run.getPhasesList()) {
      out.append(' ').append(phase.getName()).append(' ').append(phase.getMillis()).append(',');
    }
    out.setLength(out.length() - 1);
    return out.append(" (ms)").toString();
  }

  private static void add(List<PipelinePhase> out, String name, Instant from, Instant to) {
    if (from == null || to == null) {
      return;
    }
    out.add(PipelinePhase.newBuilder().setName(name)
        .setMillis(Math.max(0, Duration.between(from, to).toMillis()))
        .setEndedAt(ProtoTime.timestamp(to)).build());
  }

  private static Instant step(PipelineRun run, PipelineStage stage) {
    for (PipelineStep step : run.getStepsList()) {
      if (step.getStage() == stage) {
        return ProtoTime.instant(step.getAt());
      }
    }
    return null;
  }
}
