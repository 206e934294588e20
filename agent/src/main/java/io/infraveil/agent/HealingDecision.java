package io.infraveil.agent;

import java.time.Duration;
import java.util.Objects;

/** What to do about a failed service: heal after {@code delay}, or give up. */
public record HealingDecision(Action action, Duration delay, Reason reason, int attempt) {

  /** The action the supervisor carries out. */
  public enum Action { HEAL, GIVE_UP }

  /** Why; goes unchanged into events. */
  public enum Reason {
    /** Fewer than the allowed attempts were made within the window. */
    WITHIN_BUDGET,
    /** The allowed attempts within the window are spent. */
    BUDGET_EXHAUSTED
  }

  public HealingDecision {
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(delay, "delay");
    Objects.requireNonNull(reason, "reason");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, got " + delay);
    }
  }
}
