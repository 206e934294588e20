package io.infraveil.controlplane.incidents;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * ROLLOUT_FAILED: a deployment's latest rollout failed or was reverted; the summary says which
 * host failed and why. Resolves when the deployment starts another rollout (or is deleted). The
 * rollout engine tells it, also at start for the rollouts it loads.
 */
public final class RolloutFailedRule implements IncidentRule {

  private final Map<String, Finding> failed = new ConcurrentHashMap<>();

  @Override
  public Rule rule() {
    return Rule.ROLLOUT_FAILED;
  }

  /** The latest rollout of {@code deployment} failed for {@code reason}. */
  public void failed(String deployment, String reason) {
    failed.put(deployment, new Finding(Rule.ROLLOUT_FAILED, "", deployment, "", "",
        "rollout of " + deployment + " failed: " + reason));
  }

  /** {@code deployment} started another rollout, or no longer exists. */
  public void cleared(String deployment) {
    failed.remove(deployment);
  }

  @Override
  public void restored(Finding finding) {
    failed.putIfAbsent(finding.deployment(), finding);
  }

  @Override
  public List<Finding> findings(Instant now) {
    return List.copyOf(failed.values());
  }
}
