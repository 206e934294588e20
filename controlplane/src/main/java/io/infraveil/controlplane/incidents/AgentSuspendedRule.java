package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.proto.v1.AgentState;
import io.infraveil.proto.v1.AgentStatus;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.HostReport;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * AGENT_SUSPENDED: the launcher reports an agent SUSPENDED (its crash budget ran out) or sent
 * EVENT_KIND_AGENT_SUSPENDED. Resolves when the launcher reports the agent in another state or
 * sends EVENT_KIND_AGENT_RESUMED.
 */
final class AgentSuspendedRule implements IncidentRule {

  private record Suspension(String host, String deployment, String reason) {}

  private final Map<String, Suspension> suspended = new ConcurrentHashMap<>();

  @Override
  public Rule rule() {
    return Rule.AGENT_SUSPENDED;
  }

  @Override
  public void hostReported(String host, HostReport report) {
    Set<String> reported = new HashSet<>();
    for (AgentStatus agent : report.getAgentsList()) {
      String key = Heartbeats.key(host, agent.getDeployment());
      reported.add(key);
      if (agent.getState() == AgentState.AGENT_STATE_SUSPENDED) {
        suspended.putIfAbsent(key, new Suspension(host, agent.getDeployment(), agent.getReason()));
      } else {
        suspended.remove(key);
      }
    }
    suspended.keySet().removeIf(key -> key.startsWith(host + "/") && !reported.contains(key));
  }

  @Override
  public void event(ReportIngest.ReceivedEvent received) {
    var event = received.event();
    String key = Heartbeats.key(received.host(), event.getDeployment());
    if (event.getKind() == EventKind.EVENT_KIND_AGENT_SUSPENDED) {
      suspended.putIfAbsent(key, new Suspension(received.host(), event.getDeployment(),
          event.getReason().isEmpty() ? event.getMessage() : event.getReason()));
    } else if (event.getKind() == EventKind.EVENT_KIND_AGENT_RESUMED) {
      suspended.remove(key);
    }
  }

  @Override
  public List<Finding> findings(Instant now) {
    List<Finding> out = new ArrayList<>();
    for (Suspension s : suspended.values()) {
      out.add(new Finding(Rule.AGENT_SUSPENDED, s.host(), s.deployment(), "", "", "agent of "
          + s.deployment() + " on " + s.host() + " is suspended" + (s.reason().isEmpty() ? "" : ": " + s.reason())));
    }
    return out;
  }
}
