package io.infraveil.controlplane.rollout;

import io.infraveil.proto.v1.RolloutState;

/**
 * Where a rollout is. Only {@link RolloutPolicy} (and promotion, supersession) move it.
 *
 * <pre>
 *                 canaries healthy,            ctl promote
 *   RUNNING ───── no auto_promote ──▶ AWAITING_PROMOTION ────────▶ RUNNING
 *     │  │                                    │
 *     │  └─ every host HEALTHY ──▶ SUCCEEDED  │
 *     │                                       │
 *     ├─ a host FAILED ─┬─ auto_revert ──▶ REVERTED
 *     │                 └─ otherwise ────▶ FAILED
 *     └─ a newer version (either state) ─▶ SUPERSEDED
 * </pre>
 *
 * A paused deployment freezes its rollout in RUNNING or AWAITING_PROMOTION: nothing moves
 * until it is resumed.
 */
enum Phase {
  RUNNING(false),
  AWAITING_PROMOTION(false),
  SUCCEEDED(true),
  FAILED(true),
  REVERTED(true),
  SUPERSEDED(true);

  private final boolean terminal;

  Phase(boolean terminal) {
    this.terminal = terminal;
  }

  boolean terminal() {
    return terminal;
  }

  RolloutState toProto() {
    return switch (this) {
      case RUNNING -> RolloutState.ROLLOUT_STATE_RUNNING;
      case AWAITING_PROMOTION -> RolloutState.ROLLOUT_STATE_AWAITING_PROMOTION;
      case SUCCEEDED -> RolloutState.ROLLOUT_STATE_SUCCEEDED;
      case FAILED -> RolloutState.ROLLOUT_STATE_FAILED;
      case REVERTED -> RolloutState.ROLLOUT_STATE_REVERTED;
      case SUPERSEDED -> RolloutState.ROLLOUT_STATE_SUPERSEDED;
    };
  }
}
