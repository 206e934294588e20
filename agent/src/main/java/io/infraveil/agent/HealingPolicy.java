package io.infraveil.agent;

import io.infraveil.host.time.Backoff;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The healing budget of a service (DESIGN §6): at most {@code maxRestarts} restarts, then the
 * service is FAILED and left alone. The count is earned back only by a stable run: once the
 * service has been running and healthy for {@code stablePeriod} without a break, what it spent
 * is forgotten. Merely letting time pass earns nothing, so a service that crashes every 75 s
 * still reaches its limit.
 *
 * <p>The first restart after a crash starts at once. Only a crash that comes within
 * {@code quickCrash} of the previous restart is quick, and each quick crash in a row waits
 * twice as long as the one before, from the backoff's initial delay up to its cap.
 *
 * <p>Pure: a function of the record so far, when the service became healthy and the time; the
 * runner carries the decision out and keeps {@link HealingDecision#next()}.
 */
public final class HealingPolicy {

  private final int maxRestarts;
  private final Duration stablePeriod;
  private final Duration quickCrash;
  private final Backoff backoff;

  /** {@code backoff} must be without jitter: restarts are local, nothing to spread out. */
  public HealingPolicy(int maxRestarts, Duration stablePeriod, Duration quickCrash,
      Backoff backoff) {
    if (maxRestarts < 1) {
      throw new IllegalArgumentException("maxRestarts must be >= 1, got " + maxRestarts);
    }
    this.maxRestarts = maxRestarts;
    this.stablePeriod = positive(stablePeriod, "stablePeriod");
    this.quickCrash = positive(quickCrash, "quickCrash");
    this.backoff = Objects.requireNonNull(backoff, "backoff");
  }

  /**
   * The record as it stands at {@code now}: empty once the service has been healthy since
   * {@code healthySince} for the whole stable period, else {@code spent} unchanged.
   */
  public RestartRecord standing(RestartRecord spent, Optional<Instant> healthySince,
      Instant now) {
    Objects.requireNonNull(spent, "spent");
    Objects.requireNonNull(healthySince, "healthySince");
    Objects.requireNonNull(now, "now");
    boolean stable = healthySince.map(since -> !now.isBefore(since.plus(stablePeriod)))
        .orElse(false);
    return stable ? RestartRecord.NONE : spent;
  }

  /**
   * Decides what to do about a failure at {@code now}, given what was spent and since when the
   * service had been healthy before it failed (empty if it was not healthy).
   */
  public HealingDecision decide(RestartRecord spent, Optional<Instant> healthySince,
      Instant now) {
    RestartRecord record = standing(spent, healthySince, now);
    if (record.counted() >= maxRestarts) {
      return new HealingDecision(HealingDecision.Action.GIVE_UP, Duration.ZERO,
          HealingDecision.Reason.BUDGET_EXHAUSTED, record.counted(), record);
    }
    boolean quick = record.lastRestartAt().map(at -> now.isBefore(at.plus(quickCrash)))
        .orElse(false);
    int streak = quick ? record.quickStreak() + 1 : 0;
    Duration delay = quick ? backoff.delay(streak - 1) : Duration.ZERO;
    int restart = record.counted() + 1;
    return new HealingDecision(HealingDecision.Action.HEAL, delay, quick
        ? HealingDecision.Reason.QUICK_CRASH_BACKOFF : HealingDecision.Reason.RESTART_AT_ONCE,
        restart, new RestartRecord(restart, streak, Optional.of(now.plus(delay))));
  }

  public int maxRestarts() {
    return maxRestarts;
  }

  public Duration stablePeriod() {
    return stablePeriod;
  }

  private static Duration positive(Duration value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
    return value;
  }
}
