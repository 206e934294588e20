package io.infraveil.controlplane.ops;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.ingest.ConsoleLogs;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.pipeline.PipelineTelemetry;
import io.infraveil.controlplane.store.SecurityEventStore.SecurityEventRecord;
import io.infraveil.controlplane.trace.RequestTraces;
import io.infraveil.proto.v1.AgentStatus;
import io.infraveil.proto.v1.EvidenceSource;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.LogStream;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.ServiceStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Collectors;

/** Turns what each source reports into {@link Evidence} with a one-line text. */
public final class EvidenceTexts {

  private EvidenceTexts() {}

  public static Evidence hostEvent(ReportIngest.ReceivedEvent received) {
    var event = received.event();
    EvidenceSource source = received.origin() == ReportIngest.Origin.LAUNCHER
        ? EvidenceSource.EVIDENCE_SOURCE_LAUNCHER : EvidenceSource.EVIDENCE_SOURCE_AGENT;
    StringBuilder text = new StringBuilder()
        .append(received.origin() == ReportIngest.Origin.LAUNCHER ? "launcher" : "agent")
        .append(" on ").append(received.host()).append(": ")
        .append(event.getKind().name().replace("EVENT_KIND_", ""));
    if (!event.getDeployment().isEmpty()) {
      text.append(' ').append(event.getDeployment());
    }
    if (!event.getService().isEmpty()) {
      text.append('/').append(event.getService());
    }
    if (event.hasPayload() && !event.getPayload().getSha256().isEmpty()) {
      text.append(" payload ").append(payload(event.getPayload()));
    }
    if (!event.getReason().isEmpty()) {
      text.append(" (").append(event.getReason()).append(')');
    }
    if (!event.getMessage().isEmpty()) {
      text.append(": ").append(event.getMessage());
    }
    Instant at = event.hasAt() ? ProtoTime.instant(event.getAt()) : received.receivedAt();
    return new Evidence(at, source, received.host(), event.getDeployment(), event.getService(), "", text.toString());
  }

  /** A heartbeat's state in one line; equal lines mean nothing worth recording changed. */
  public static String heartbeatSummary(String host, HeartbeatRequest heartbeat) {
    String services = heartbeat.getServicesList().stream().map(EvidenceTexts::service)
        .collect(Collectors.joining(", "));
    return "agent " + heartbeat.getDeployment() + " on " + host + " runs " + payload(heartbeat.getPayload()) + " "
        + heartbeat.getVersionStatus().name().replace("VERSION_STATUS_", "")
        + (services.isEmpty() ? "" : "; " + services);
  }

  public static Evidence heartbeat(ReportIngest.AgentReport report, String summary) {
    return new Evidence(report.receivedAt(), EvidenceSource.EVIDENCE_SOURCE_AGENT, report.host(),
        report.heartbeat().getDeployment(), "", "", summary);
  }

  /** A launcher report's agent states in one line. */
  public static String hostReportSummary(String host, HostReport report) {
    String agents = report.getAgentsList().stream().map(EvidenceTexts::agent).collect(Collectors.joining(", "));
    return "launcher on " + host + " at revision " + report.getDesiredRevision()
        + (report.hasDetachedSince() ? ", detached since " + ProtoTime.instant(report.getDetachedSince()) : "")
        + (agents.isEmpty() ? ", no agents" : ": " + agents);
  }

  public static Evidence hostReport(String host, Instant at, String summary) {
    return new Evidence(at, EvidenceSource.EVIDENCE_SOURCE_LAUNCHER, host, "", "", "", summary);
  }

  public static Evidence console(ConsoleLogs.HostLine line) {
    var l = line.line();
    Instant at = l.hasAt() ? ProtoTime.instant(l.getAt()) : Instant.EPOCH;
    String stream = l.getStream() == LogStream.LOG_STREAM_STDERR ? "stderr" : "stdout";
    return new Evidence(at, EvidenceSource.EVIDENCE_SOURCE_CONSOLE, line.host(), line.deployment(), l.getService(),
        "", "[" + line.host() + " " + line.deployment() + "/" + l.getService() + "#" + l.getClusterIndex() + " "
            + stream + "] " + l.getText());
  }

  public static Evidence trace(RequestTraces.Trace trace) {
    return new Evidence(trace.at(), EvidenceSource.EVIDENCE_SOURCE_REQUEST, trace.host(), "", "", trace.identity(),
        trace.shortMethod() + " " + trace.status() + " in " + millis(trace.latency()) + " by "
            + (trace.identity().isEmpty() ? "anonymous" : trace.identity()) + " trace=" + trace.traceId());
  }

  public static Evidence security(SecurityEventRecord event, String host) {
    return new Evidence(event.at(), EvidenceSource.EVIDENCE_SOURCE_SECURITY, host, "", "",
        event.identity() == null ? "" : event.identity(),
        event.kind() + (event.identity() == null ? "" : " by " + event.identity())
            + (event.method() == null ? "" : " on " + event.method()) + ": " + event.message()
            + (event.peer() == null ? "" : " (from " + event.peer() + ")"));
  }

  public static Evidence pipeline(PipelineTelemetry.StepReached step) {
    Instant at = ProtoTime.instant(step.step().getAt());
    String after = step.previousStepAt() == null ? ""
        : " (+" + millis(Duration.between(step.previousStepAt(), at)) + ")";
    return new Evidence(at, EvidenceSource.EVIDENCE_SOURCE_PIPELINE, step.host(), step.deployment(), "", "",
        "pipeline " + step.deployment() + " " + payload(step.payload()) + " on " + step.host() + ": "
            + step.step().getStage().name().replace("PIPELINE_STAGE_", "") + after
            + (step.step().getDetail().isEmpty() ? "" : " — " + step.step().getDetail()));
  }

  public static String payload(PayloadRef payload) {
    String sha = payload.getSha256().isEmpty() ? "?" : payload.getSha256().substring(0, Math.min(12,
        payload.getSha256().length()));
    return payload.getVersion().isEmpty() ? sha : payload.getVersion() + " (" + sha + ")";
  }

  private static String service(ServiceStatus s) {
    return s.getName() + " " + s.getState().name().replace("SERVICE_STATE_", "") + "/"
        + s.getHealth().name().replace("HEALTH_STATUS_", "")
        + (s.getRestartsTotal() > 0 ? " restarts " + s.getRestartsTotal() : "")
        + (s.getReason().isEmpty() ? "" : " (" + s.getReason() + ")");
  }

  private static String agent(AgentStatus a) {
    return a.getDeployment() + " " + a.getState().name().replace("AGENT_STATE_", "")
        + (a.getCrashesInWindow() > 0 ? " crashes " + a.getCrashesInWindow() : "")
        + (a.getReason().isEmpty() ? "" : " (" + a.getReason() + ")");
  }

  private static String millis(Duration d) {
    long ms = d.toMillis();
    return ms < 1000 ? ms + " ms" : String.format("%.1f s", ms / 1000.0);
  }
}
