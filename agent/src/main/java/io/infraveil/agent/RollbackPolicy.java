package io.infraveil.agent;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The rollback rule: the {@code maxFailures}-th deploy failure of a candidate within a rolling
 * {@code window} rolls back to the last known good version. Pure.
 */
public final class RollbackPolicy {

  private final int maxFailures;
  private final Duration window;

  public RollbackPolicy(int maxFailures, Duration window) {
    if (maxFailures < 1) {
      throw new IllegalArgumentException("maxFailures must be >= 1, got " + maxFailures);
    }
    this.window = Objects.requireNonNull(window, "window");
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("window must be positive, got " + window);
    }
    this.maxFailures = maxFailures;
  }

  /**
   * Decides after a deploy failure; {@code failures} includes the one just recorded.
   * {@code lastKnownGood} is the newest known good version other than the failing one.
   */
  public RollbackDecision decide(VersionStatus status, List<Instant> failures, Instant now,
      Optional<String> lastKnownGood) {
    Instant horizon = now.minus(window);
    int inWindow = (int) failures.stream().filter(at -> at.isAfter(horizon)).count();
    if (status != VersionStatus.CANDIDATE) {
      return new RollbackDecision(RollbackDecision.Action.KEEP,
          RollbackDecision.Reason.NOT_CANDIDATE, inWindow, Optional.empty());
    }
    if (inWindow < maxFailures) {
      return new RollbackDecision(RollbackDecision.Action.KEEP,
          RollbackDecision.Reason.BELOW_LIMIT, inWindow, Optional.empty());
    }
    if (lastKnownGood.isEmpty()) {
      return new RollbackDecision(RollbackDecision.Action.KEEP,
          RollbackDecision.Reason.NO_KNOWN_GOOD, inWindow, Optional.empty());
    }
    return new RollbackDecision(RollbackDecision.Action.ROLL_BACK,
        RollbackDecision.Reason.LIMIT_REACHED, inWindow, lastKnownGood);
  }

  public Duration window() {
    return window;
  }
}
