package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.VersionStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * ROLLED_BACK: an agent reported EVENT_KIND_ROLLED_BACK, or a heartbeat whose running version
 * is VERSION_STATUS_MARKED_BAD. Resolves when the agent runs the deployment's desired payload
 * with every service healthy (a newer version deployed, or the deployment rolled back to what
 * the host runs).
 */
final class RolledBackRule implements IncidentRule {

  private final Map<String, Finding> rolledBack = new ConcurrentHashMap<>();
  private final BiFunction<String, String, Optional<String>> desiredSha;

  /** @param desiredSha the payload hash the host's desired state names for a deployment */
  RolledBackRule(BiFunction<String, String, Optional<String>> desiredSha) {
    this.desiredSha = Objects.requireNonNull(desiredSha, "desiredSha");
  }

  @Override
  public Rule rule() {
    return Rule.ROLLED_BACK;
  }

  @Override
  public void event(ReportIngest.ReceivedEvent received) {
    var event = received.event();
    if (event.getKind() == EventKind.EVENT_KIND_ROLLED_BACK) {
      rolledBack.putIfAbsent(Heartbeats.key(received.host(), event.getDeployment()),
          new Finding(Rule.ROLLED_BACK, received.host(), event.getDeployment(), "", "",
              event.getDeployment() + " on " + received.host() + " rolled back"
                  + (event.getReason().isEmpty() ? "" : " (" + event.getReason() + ")")
                  + (event.getMessage().isEmpty() ? "" : ": " + event.getMessage())));
    }
  }

  @Override
  public void agentReported(ReportIngest.AgentReport report) {
    var heartbeat = report.heartbeat();
    String key = Heartbeats.key(report.host(), heartbeat.getDeployment());
    String running = heartbeat.getPayload().getSha256();
    if (heartbeat.getVersionStatus() == VersionStatus.VERSION_STATUS_MARKED_BAD) {
      rolledBack.putIfAbsent(key, new Finding(Rule.ROLLED_BACK, report.host(), heartbeat.getDeployment(), "", "",
          heartbeat.getDeployment() + " on " + report.host() + " runs version "
              + Heartbeats.shortSha(running) + ", which it marked bad"));
      return;
    }
    boolean runsDesired = desiredSha.apply(report.host(), heartbeat.getDeployment())
        .map(running::equals).orElse(true);
    if (runsDesired && Heartbeats.allHealthy(heartbeat)) {
      rolledBack.remove(key);
    }
  }

  /**
   * A rollback found open at start stays open until its normal resolution (the host runs the
   * desired payload, healthy): the event that opened it is not sent again.
   */
  @Override
  public void restored(Finding finding) {
    rolledBack.putIfAbsent(Heartbeats.key(finding.host(), finding.deployment()), finding);
  }

  @Override
  public List<Finding> findings(Instant now) {
    return List.copyOf(rolledBack.values());
  }
}
