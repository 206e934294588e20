package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SERVICE_FAILED: the latest heartbeat of an agent shows a service FAILED (healing gave up).
 * Resolves when a heartbeat shows it in any other state (RUNNING again, or gone).
 */
final class ServiceFailedRule implements IncidentRule {

  private final Map<String, List<Finding>> byAgent = new ConcurrentHashMap<>();

  @Override
  public Rule rule() {
    return Rule.SERVICE_FAILED;
  }

  @Override
  public void agentReported(ReportIngest.AgentReport report) {
    var heartbeat = report.heartbeat();
    List<Finding> failed = new ArrayList<>();
    for (ServiceStatus service : heartbeat.getServicesList()) {
      if (service.getState() == ServiceState.SERVICE_STATE_FAILED) {
        failed.add(new Finding(Rule.SERVICE_FAILED, report.host(), heartbeat.getDeployment(), service.getName(), "",
            "service " + service.getName() + " of " + heartbeat.getDeployment() + " on " + report.host()
                + " FAILED after " + service.getRestartsInWindow() + " restarts"
                + (service.getReason().isEmpty() ? "" : ": " + service.getReason())
                + (service.getLastFailure().isEmpty() ? "" : "; last failure: " + service.getLastFailure())
                + oom(service)));
      }
    }
    String key = Heartbeats.key(report.host(), heartbeat.getDeployment());
    if (failed.isEmpty()) {
      byAgent.remove(key);
    } else {
      byAgent.put(key, List.copyOf(failed));
    }
  }

  /** "; OOM-killed 3 times at its memory limit 16Mi" when the kernel killed it for memory. */
  static String oom(ServiceStatus service) {
    if (service.getOomKills() == 0) {
      return "";
    }
    return "; OOM-killed " + service.getOomKills() + (service.getOomKills() == 1 ? " time" : " times")
        + (service.getMemoryLimitBytes() > 0 ? " at its memory limit "
            + io.infraveil.appconfig.ResourcesSpec.formatBytes(service.getMemoryLimitBytes()) : "");
  }

  @Override
  public List<Finding> findings(Instant now) {
    return byAgent.values().stream().flatMap(List::stream).toList();
  }
}
