package io.infraveil.controlplane.incidents;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * ROLLOUT_STUCK: a deployment changed more than {@code stuckAfter} ago and some placed hosts
 * still do not report running its payload (paused deployments excepted). Resolves when every
 * placed host runs it. Fed with snapshots on the incident timer, not on every report: building
 * one reads the store.
 */
final class RolloutStuckRule implements IncidentRule {

  /**
   * A deployment as far as this rule cares.
   *
   * @param running payload hash each placed host's agent reports running (absent: no report)
   */
  record Rollout(String deployment, String sha256, String version, Instant updatedAt, boolean paused,
      List<String> placedHosts, Map<String, String> running) {
    Rollout {
      Objects.requireNonNull(deployment, "deployment");
      placedHosts = List.copyOf(placedHosts);
      running = Map.copyOf(running);
    }
  }

  private final Duration stuckAfter;
  private volatile List<Rollout> rollouts = List.of();

  RolloutStuckRule(Duration stuckAfter) {
    this.stuckAfter = Objects.requireNonNull(stuckAfter, "stuckAfter");
  }

  @Override
  public Rule rule() {
    return Rule.ROLLOUT_STUCK;
  }

  void refresh(List<Rollout> latest) {
    this.rollouts = List.copyOf(latest);
  }

  @Override
  public List<Finding> findings(Instant now) {
    List<Finding> out = new ArrayList<>();
    for (Rollout r : rollouts) {
      if (r.paused() || now.isBefore(r.updatedAt().plus(stuckAfter))) {
        continue;
      }
      List<String> behind = r.placedHosts().stream()
          .filter(host -> !r.sha256().equals(r.running().get(host)))
          .toList();
      if (!behind.isEmpty()) {
        out.add(new Finding(Rule.ROLLOUT_STUCK, "", r.deployment(), "", "", "rollout of " + r.deployment()
            + " to " + r.version() + " (" + Heartbeats.shortSha(r.sha256()) + ") is stuck: "
            + behind.size() + " of " + r.placedHosts().size() + " placed hosts do not run it after "
            + stuckAfter.toMinutes() + " min: " + String.join(", ", behind)));
      }
    }
    return out;
  }
}
