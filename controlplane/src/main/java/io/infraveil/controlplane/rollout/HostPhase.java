package io.infraveil.controlplane.rollout;

import io.infraveil.proto.v1.RolloutHostState;

/**
 * Where one host is in a rollout.
 *
 * <pre>
 *   PENDING ── moved in a batch ──▶ UPDATING ── healthy for min_healthy_time ──▶ HEALTHY
 *   (keeps its old entry)              │
 *                                      └─ rolled back, failed, past healthy_deadline ──▶ FAILED
 *   UPDATING, HEALTHY, FAILED ── the rollout reverted ──▶ REVERTED
 * </pre>
 *
 * PENDING hosts keep the entry they had; every other state takes the deployment's entry.
 */
enum HostPhase {
  PENDING,
  UPDATING,
  HEALTHY,
  FAILED,
  REVERTED;

  /** Whether the host was given the rollout's version. */
  boolean moved() {
    return this != PENDING;
  }

  RolloutHostState toProto() {
    return switch (this) {
      case PENDING -> RolloutHostState.ROLLOUT_HOST_STATE_PENDING;
      case UPDATING -> RolloutHostState.ROLLOUT_HOST_STATE_UPDATING;
      case HEALTHY -> RolloutHostState.ROLLOUT_HOST_STATE_HEALTHY;
      case FAILED -> RolloutHostState.ROLLOUT_HOST_STATE_FAILED;
      case REVERTED -> RolloutHostState.ROLLOUT_HOST_STATE_REVERTED;
    };
  }
}
