package io.infraveil.agent;

import java.time.Duration;
import java.util.Objects;

/**
 * What to do about a failed service: restart it after {@code delay}, or give up. {@code restart}
 * is the number of this restart within the budget (1 for the first), or, when giving up, the
 * restarts that were made; {@code next} is the record the runner keeps from now on.
 */
public record HealingDecision(Action action, Duration delay, Reason reason, int restart,
    RestartRecord next) {

  /** The action the supervisor carries out. */
  public enum Action { HEAL, GIVE_UP }

  /** Why; goes unchanged into events. */
  public enum Reason {
    /** The first crash, or one after the service had run a while: restarted at once. */
    RESTART_AT_ONCE,
    /** Another quick crash right after a restart: restarted after a growing delay. */
    QUICK_CRASH_BACKOFF,
    /** Every allowed restart was made and none stayed healthy for the stable period. */
    BUDGET_EXHAUSTED
  }

  public HealingDecision {
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(delay, "delay");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(next, "next");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, got " + delay);
    }
    if ((action == Action.GIVE_UP) != (reason == Reason.BUDGET_EXHAUSTED)) {
      throw new IllegalArgumentException(action + " does not go with reason " + reason);
    }
  }
}
