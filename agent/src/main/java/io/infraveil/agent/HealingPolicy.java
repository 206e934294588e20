package io.infraveil.agent;

import io.infraveil.host.time.Backoff;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The healing budget of a service: at most {@code maxAttempts} healing attempts within a
 * rolling {@code window}, the n-th waiting {@code backoff.delay(n)}. Pure: a function of the
 * attempts already made and the time; the supervisor carries the decision out.
 */
public final class HealingPolicy {

  private final int maxAttempts;
  private final Duration window;
  private final Backoff backoff;

  public HealingPolicy(int maxAttempts, Duration window, Backoff backoff) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
    }
    this.window = Objects.requireNonNull(window, "window");
    this.backoff = Objects.requireNonNull(backoff, "backoff");
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("window must be positive, got " + window);
    }
    this.maxAttempts = maxAttempts;
  }

  /**
   * Decides what to do about a failure at {@code now}, given the times of the healing attempts
   * already made (older ones than the window are ignored, so a stable run earns them back).
   */
  public HealingDecision decide(List<Instant> attemptsMade, Instant now) {
    Instant horizon = now.minus(window);
    int inWindow = (int) attemptsMade.stream().filter(at -> at.isAfter(horizon)).count();
    if (inWindow >= maxAttempts) {
      return new HealingDecision(HealingDecision.Action.GIVE_UP, Duration.ZERO,
          HealingDecision.Reason.BUDGET_EXHAUSTED, inWindow);
    }
    return new HealingDecision(HealingDecision.Action.HEAL, backoff.delay(inWindow),
        HealingDecision.Reason.WITHIN_BUDGET, inWindow + 1);
  }

  public Duration window() {
    return window;
  }
}
