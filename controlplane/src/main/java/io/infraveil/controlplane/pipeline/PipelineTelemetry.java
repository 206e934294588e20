package io.infraveil.controlplane.pipeline;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.proto.v1.DeployTimings;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.PipelineRun;
import io.infraveil.proto.v1.PipelineStage;
import io.infraveil.proto.v1.PipelineStep;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.VersionStatus;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Pipeline telemetry: for each (host, deployment, payload) the steps upload → placed → fetched
 * → verified → started → healthy (or failed), with times, derived from what the control plane
 * already sees: uploads, desired states, host events and heartbeats. Each step is reached once;
 * listeners hear it as it happens.
 */
@Singleton
public final class PipelineTelemetry {

  /** A step reached by one run. */
  public record StepReached(String host, String deployment, PayloadRef payload, PipelineStep step,
      Instant previousStepAt) {}

  /** {@code began} and {@code received} are null for uploads told without them. */
  private record Upload(Instant at, String version, String by, Instant began, Instant received) {}

  private static final int RUNS_KEPT = 2_000;

  private final Clock clock;
  private final Map<String, Upload> uploads = new ConcurrentHashMap<>();
  /** Guarded by itself; insertion order = oldest run first. */
  private final Map<String, PipelineRun> runs = new LinkedHashMap<>();
  private final List<Consumer<StepReached>> listeners = new CopyOnWriteArrayList<>();
  /** The hosts' side of each run (guarded by {@code runs}), by run key. */
  private final Map<String, DeployTimings> hostTimings = new LinkedHashMap<>();

  public PipelineTelemetry(Clock clock) {
    this.clock = clock;
  }

  public void addListener(Consumer<StepReached> listener) {
    listeners.add(listener);
  }

  /** An operator uploaded a payload (new or already stored). */
  public void uploaded(String sha256, String version, String by) {
    uploads.put(sha256, new Upload(clock.instant(), version, by, null, null));
  }

  /**
   * An operator uploaded a payload whose stream began at {@code began} and whose last byte came
   * at {@code received}; it is stored (sealed) now.
   */
  public void uploaded(String sha256, String version, String by, Instant began, Instant received) {
    uploads.put(sha256, new Upload(clock.instant(), version, by, began, received));
  }

  /** Now, by this telemetry's clock (for callers marking the ends of a phase). */
  public Instant now() {
    return clock.instant();
  }

  /** A host's desired state changed: every agent it names is placed there. */
  public void placed(String host, DesiredState state) {
    for (DesiredAgent agent : state.getAgentsList()) {
      if (!agent.getStop()) {
        reach(host, agent.getDeployment(), agent.getPayload(), PipelineStage.PIPELINE_STAGE_PLACED,
            clock.instant(), "revision " + state.getRevision() + ", generation " + agent.getGeneration());
      }
    }
  }

  /** A host event from a launcher or an agent. */
  public void event(ReportIngest.ReceivedEvent received, String desiredSha) {
    var event = received.event();
    Instant at = event.hasAt() ? ProtoTime.instant(event.getAt()) : received.receivedAt();
    String detail = detail(event.getReason(), event.getMessage());
    PayloadRef payload = event.getPayload();
    switch (event.getKind()) {
      case EVENT_KIND_PAYLOAD_FETCHED -> reach(received.host(), event.getDeployment(), payload,
          PipelineStage.PIPELINE_STAGE_FETCHED, at, detail);
      case EVENT_KIND_PAYLOAD_VERIFIED -> reach(received.host(), event.getDeployment(), payload,
          PipelineStage.PIPELINE_STAGE_VERIFIED, at, detail);
      case EVENT_KIND_VERSION_STARTED -> reach(received.host(), event.getDeployment(), payload,
          PipelineStage.PIPELINE_STAGE_STARTED, at, detail);
      case EVENT_KIND_PAYLOAD_REJECTED -> reach(received.host(), event.getDeployment(), payload,
          PipelineStage.PIPELINE_STAGE_FAILED, at, "rejected: " + detail);
      case EVENT_KIND_ROLLED_BACK -> {
        // The event names the version rolled back to; the one that failed is the desired one.
        if (desiredSha != null && !desiredSha.equals(payload.getSha256())) {
          reach(received.host(), event.getDeployment(), PayloadRef.newBuilder().setSha256(desiredSha).build(),
              PipelineStage.PIPELINE_STAGE_FAILED, at, "rolled back: " + detail);
        }
      }
      default -> {
        // Other events are not pipeline steps.
      }
    }
  }

  /** A heartbeat: all services healthy on a version makes it HEALTHY; marked bad makes it FAILED. */
  public void heartbeat(ReportIngest.AgentReport report) {
    var heartbeat = report.heartbeat();
    if (heartbeat.getPayload().getSha256().isEmpty()) {
      return;
    }
    if (heartbeat.hasDeployTimings()) {
      timed(report.host() + "/" + heartbeat.getDeployment() + "/" + heartbeat.getPayload().getSha256(),
          heartbeat.getDeployTimings());
    }
    if (heartbeat.getVersionStatus() == VersionStatus.VERSION_STATUS_MARKED_BAD) {
      reach(report.host(), heartbeat.getDeployment(), heartbeat.getPayload(), PipelineStage.PIPELINE_STAGE_FAILED,
          report.receivedAt(), "marked bad by the agent");
      return;
    }
    boolean healthy = heartbeat.getServicesCount() > 0 && heartbeat.getServicesList().stream()
        .allMatch(s -> s.getState() == ServiceState.SERVICE_STATE_RUNNING
            && s.getHealth() == HealthStatus.HEALTH_STATUS_HEALTHY);
    if (healthy) {
      reach(report.host(), heartbeat.getDeployment(), heartbeat.getPayload(), PipelineStage.PIPELINE_STAGE_HEALTHY,
          report.receivedAt(), heartbeat.getServicesCount() + " service(s) healthy");
    }
  }

  /** Runs, newest first. */
  public List<PipelineRun> runs() {
    List<PipelineRun> out;
    synchronized (runs) {
      out = new ArrayList<>(runs.values());
    }
    Collections.reverse(out);
    return out;
  }

  /** The host's side of a run: its phases are computed again when the moments changed. */
  private void timed(String key, DeployTimings timings) {
    synchronized (runs) {
      PipelineRun run = runs.get(key);
      if (run == null || timings.equals(hostTimings.get(key))) {
        return;
      }
      hostTimings.put(key, timings);
      runs.put(key, withPhases(run, timings));
    }
  }

  /**
   * The run with its phases: each stretch between two known moments, in the order a deploy
   * goes through them (see {@link PipelinePhases}).
   */
  private PipelineRun withPhases(PipelineRun run, DeployTimings timings) {
    Upload upload = uploads.get(run.getPayload().getSha256());
    return run.toBuilder().clearPhases().addAllPhases(PipelinePhases.of(run,
        upload == null ? null : upload.began(), upload == null ? null : upload.received(), timings))
        .build();
  }

  private void reach(String host, String deployment, PayloadRef payload, PipelineStage stage, Instant at,
      String detail) {
    if (payload.getSha256().isEmpty()) {
      return;
    }
    String key = host + "/" + deployment + "/" + payload.getSha256();
    StepReached reached;
    synchronized (runs) {
      PipelineRun run = runs.get(key);
      if (run == null) {
        PayloadRef ref = payload;
        Upload upload = uploads.get(payload.getSha256());
        if (upload != null && ref.getVersion().isEmpty()) {
          ref = ref.toBuilder().setVersion(upload.version()).build();
        }
        PipelineRun.Builder builder = PipelineRun.newBuilder().setHostName(host).setDeployment(deployment)
            .setPayload(ref);
        if (upload != null) {
          builder.addSteps(PipelineStep.newBuilder().setStage(PipelineStage.PIPELINE_STAGE_UPLOADED)
              .setAt(ProtoTime.timestamp(upload.at())).setDetail("by " + upload.by()));
        }
        run = builder.build();
      }
      if (run.getStepsList().stream().anyMatch(step -> step.getStage() == stage)) {
        return;
      }
      Instant previous = run.getStepsCount() == 0 ? null
          : ProtoTime.instant(run.getSteps(run.getStepsCount() - 1).getAt());
      PipelineStep step = PipelineStep.newBuilder().setStage(stage).setAt(ProtoTime.timestamp(at))
          .setDetail(detail).build();
      DeployTimings timings = hostTimings.getOrDefault(key, DeployTimings.getDefaultInstance());
      PipelineRun next = withPhases(run.toBuilder().addSteps(step).build(), timings);
      if (stage == PipelineStage.PIPELINE_STAGE_HEALTHY && next.getPhasesCount() > 0) {
        // The deploy is done here: its step says where the time went (Watch, timelines, history).
        step = step.toBuilder().setDetail(detail + "; " + PipelinePhases.summary(next)).build();
        next = next.toBuilder().setSteps(next.getStepsCount() - 1, step).build();
      }
      runs.remove(key);
      runs.put(key, next);
      while (runs.size() > RUNS_KEPT) {
        String oldest = runs.keySet().iterator().next();
        runs.remove(oldest);
        hostTimings.remove(oldest);
      }
      reached = new StepReached(host, deployment, run.getPayload(), step, previous);
    }
    listeners.forEach(listener -> listener.accept(reached));
  }

  private static String detail(String reason, String message) {
    if (reason.isEmpty()) {
      return message;
    }
    return message.isEmpty() ? reason : reason + ": " + message;
  }
}
