package io.infraveil.controlplane.ops;

import io.infraveil.certs.Identity;
import io.infraveil.controlplane.ServerPki;
import io.infraveil.controlplane.auth.SecurityEvents;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.incidents.Incidents;
import io.infraveil.controlplane.ingest.ConsoleLogs;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.pipeline.PipelineTelemetry;
import io.infraveil.controlplane.trace.RequestTraces;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.EvidenceSource;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.WatchResponse;
import io.micronaut.context.annotation.Context;
import jakarta.inject.Named;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects the sources (reports, console lines, request traces, security events, desired
 * states) to what is built from them (evidence and history, pipeline telemetry, incidents,
 * Watch streams, metrics). The one place that says who hears what, in which order: evidence
 * is recorded before incident rules run, so an opening incident finds it.
 */
@Context
final class OperationsWiring {

  private static final Logger LOG = LoggerFactory.getLogger(OperationsWiring.class);

  private final Map<String, String> lastHeartbeatSummary = new ConcurrentHashMap<>();
  private final Map<String, String> lastHostSummary = new ConcurrentHashMap<>();

  OperationsWiring(OperationsSettings settings, ReportIngest ingest, ConsoleLogs consoleLogs,
      RequestTraces traces, SecurityEvents securityEvents, DesiredStates desiredStates,
      PipelineTelemetry pipeline, EvidenceLog evidence, Incidents incidents, WatchHub watch, Metrics metrics,
      HostLiveness liveness, ServerPki pki, java.time.Clock clock,
      @Named(OperationsExecutor.NAME) ScheduledExecutorService scheduler) {
    liveness.setReportInterval(settings.reportInterval());
    metrics.gaugeOpenIncidents(() -> incidents.list(true).size());

    evidence.addListener(incidents::evidence);
    consoleLogs.follow(line -> evidence.record(EvidenceTexts.console(line)));
    traces.addListener(trace -> {
      evidence.record(EvidenceTexts.trace(trace));
      metrics.trace(trace);
    });
    pipeline.addListener(step -> {
      Evidence e = EvidenceTexts.pipeline(step);
      evidence.record(e);
      watch.publish(watchOf(e).build());
    });
    // Off the caller's thread: a fan-out to thousands of hosts would otherwise record each
    // host's "placed" step (and wait on the incident engine's lock) inside the operator's call.
    desiredStates.addBatchListener(states -> {
      try {
        scheduler.execute(() -> states.forEach(state -> pipeline.placed(state.getHostName(), state)));
      } catch (RejectedExecutionException stopping) {
        // The control plane is stopping.
      }
    });
    securityEvents.addListener(event -> {
      metrics.securityEvent();
      incidents.securityEvent(event); // counts every refusal
      if (event.occurrences() == 1) {
        // History and watchers get the first of each caller's identical events per minute only,
        // so a caller retrying a refused call cannot grow history faster than the event table.
        Evidence e = EvidenceTexts.security(event, hostOf(event.identity()));
        evidence.record(e);
        watch.publish(watchOf(e).build());
      }
    });
    ingest.addListener(new ReportIngest.Listener() {
      @Override
      public void event(ReportIngest.ReceivedEvent received) {
        Evidence e = EvidenceTexts.hostEvent(received);
        evidence.record(e);
        metrics.event(received);
        watch.publish(watchOf(e).setKind(received.event().getKind())
            .setVersion(received.event().getPayload().getVersion()).build());
        String desired = desiredStates.find(received.host(), received.event().getDeployment())
            .map(agent -> agent.getPayload().getSha256()).orElse(null);
        pipeline.event(received, desired);
        if (received.event().getKind() == EventKind.EVENT_KIND_PAYLOAD_REJECTED) {
          securityEvents.record("PAYLOAD_REJECTED", Identity.host(pki.trustDomain(), received.host()).uri(),
              null, e.text(), null);
        }
        incidents.event(received);
      }

      @Override
      public void agentReported(ReportIngest.AgentReport report) {
        metrics.heartbeat(report);
        pipeline.heartbeat(report);
        String summary = EvidenceTexts.heartbeatSummary(report.host(), report.heartbeat());
        String key = report.host() + "/" + report.heartbeat().getDeployment();
        if (!summary.equals(lastHeartbeatSummary.put(key, summary))) {
          evidence.record(EvidenceTexts.heartbeat(report, summary));
        }
        incidents.agentReported(report);
      }

      @Override
      public void hostReported(String host, HostReport report) {
        String summary = EvidenceTexts.hostReportSummary(host, report);
        if (!summary.equals(lastHostSummary.put(host, summary))) {
          evidence.record(EvidenceTexts.hostReport(host,
              report.hasReportedAt() ? ProtoTime.instant(report.getReportedAt()) : clock.instant(), summary));
        }
        incidents.hostReported(host, report);
      }

      // What other replicas received: only the rules hear it (fed on every replica, evaluated
      // on the leader); evidence, history, metrics and watchers got it where it arrived. The
      // rules run on this scheduler, never on the threads that read the other replicas (they
      // also push desired states).
      @Override
      public void agentReportedElsewhere(ReportIngest.AgentReport report) {
        later(scheduler, "heartbeat of " + report.host(), () -> incidents.agentReported(report));
      }

      @Override
      public void hostReportedElsewhere(String host, HostReport report) {
        later(scheduler, "report of " + host, () -> incidents.hostReported(host, report));
      }

      @Override
      public void eventElsewhere(ReportIngest.ReceivedEvent received) {
        later(scheduler, received.event().getKind() + " of " + received.host(), () -> incidents.event(received));
      }
    });
    incidents.addListener(new Incidents.Listener() {
      @Override
      public void opened(Incident incident) {
        watch.publish(incidentEvent(incident, "incident opened", incident.getOpenedAt()));
      }

      @Override
      public void resolved(Incident incident) {
        watch.publish(incidentEvent(incident, "incident resolved", incident.getResolvedAt()));
      }
    });
  }

  /** Runs {@code work} on the operations scheduler; a failure is logged, not lost in a future. */
  private static void later(ScheduledExecutorService scheduler, String what, Runnable work) {
    try {
      scheduler.execute(() -> {
        try {
          work.run();
        } catch (RuntimeException e) {
          LOG.error("incident rules failed on the {} another replica received: {}", what, e.toString());
        }
      });
    } catch (RejectedExecutionException stopping) {
      // The control plane is stopping: the leader that follows reads the others again.
    }
  }

  private static WatchResponse incidentEvent(Incident incident, String what, com.google.protobuf.Timestamp at) {
    return WatchResponse.newBuilder()
        .setAt(at)
        .setSource(EvidenceSource.EVIDENCE_SOURCE_INCIDENT)
        .setHostName(incident.getHostName())
        .setDeployment(incident.getDeployment())
        .setText(what + " " + incident.getId() + " " + incident.getRule() + ": " + incident.getSummary())
        .setIncident(incident.toBuilder().clearTimeline())
        .build();
  }

  private static WatchResponse.Builder watchOf(Evidence e) {
    return WatchResponse.newBuilder()
        .setAt(ProtoTime.timestamp(e.at()))
        .setSource(e.source())
        .setHostName(e.host())
        .setDeployment(e.deployment())
        .setText(e.text());
  }

  private static String hostOf(String identity) {
    if (identity == null || identity.isEmpty()) {
      return "";
    }
    try {
      Identity parsed = Identity.parse(identity);
      return parsed.isHost() ? parsed.name() : "";
    } catch (RuntimeException notAnIdentity) {
      return "";
    }
  }
}
