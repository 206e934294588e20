package io.infraveil.controlplane.deploy;

import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.RolloutStrategy;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where rollouts meet deployments and desired states. {@link Deployments} tells it of every new
 * version before desired states are recomputed; {@link DesiredStates} asks it, per host, whether
 * a rollout still holds the host on the version it had. {@link #heldBack} must not take locks:
 * it is called while desired states are being recomputed.
 */
public interface RolloutHook {

  /**
   * What a host keeps while a rollout has not moved it.
   *
   * @param entry the host's entry before the rollout, or null when it had none (it gets none yet)
   */
  record HeldBack(DesiredAgent entry) {}

  /**
   * A new version of a deployment, stored but not yet pushed.
   *
   * @param previous the record before the change, null for a new deployment
   * @param placed the hosts the new version is placed on, in placement order
   * @param entries each placed host's current entry for the deployment (absent: none)
   * @param strategy the strategy asked for with this change (unset fields: keep or default)
   * @param origin "deploy" or "rollback"
   */
  record VersionChange(DeploymentRecord previous, DeploymentRecord next, List<String> placed,
      Map<String, DesiredAgent> entries, RolloutStrategy strategy, String startedBy, String origin) {}

  /** The version a rollback goes to, as chosen from the deployment's history. */
  record RollbackTarget(String sha256, String label) {}

  /** Held back by a rollout, or empty when the host takes the deployment's current entry. */
  Optional<HeldBack> heldBack(String deployment, String host);

  /** Starts the rollout of a new version; called before desired states are recomputed. */
  void versionChanged(VersionChange change);

  /**
   * The version {@code ctl rollback} goes to: {@code to} (a label or a sequence) or, when empty,
   * the last version healthy on every host other than {@code current}. Empty when the history
   * knows nothing (a deployment older than rollouts). Throws a gRPC status when refused.
   */
  Optional<RollbackTarget> rollbackTarget(String deployment, String current, String to, boolean force);

  /** The deployment's latest rollout for views, without per-host detail; empty when it has none. */
  default Optional<io.infraveil.proto.v1.Rollout> summary(String deployment, boolean paused) {
    return Optional.empty();
  }

  /** No rollouts: every host takes the deployment's current entry at once. */
  RolloutHook NONE = new RolloutHook() {
    @Override
    public Optional<HeldBack> heldBack(String deployment, String host) {
      return Optional.empty();
    }

    @Override
    public void versionChanged(VersionChange change) {}

    @Override
    public Optional<RollbackTarget> rollbackTarget(String deployment, String current, String to,
        boolean force) {
      return Optional.empty();
    }
  };
}
