package io.infraveil.appconfig;

import java.time.Duration;
import java.util.Optional;

/**
 * The optional {@code rollout:} block of {@code config.yaml}: how a new version of the
 * deployment moves through its hosts. Every field is optional; an absent one is empty and leaves
 * the deployment's strategy (or the control plane's default) as it is. Flags of
 * {@code ctl deploy} win over the block.
 */
public record RolloutSpec(Optional<Integer> maxParallel, Optional<Integer> canary,
    Optional<Duration> minHealthyTime, Optional<Duration> healthyDeadline, Optional<Boolean> autoPromote,
    Optional<Boolean> autoRevert) {

  /** No block: nothing set. */
  public static final RolloutSpec NONE = new RolloutSpec(Optional.empty(), Optional.empty(), Optional.empty(),
      Optional.empty(), Optional.empty(), Optional.empty());
}
