package io.infraveil.launcher;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Decides what to do about an agent that exited without being asked to. Pure: a function of
 * the crash times, the consecutive suspensions and the clock reading passed in.
 *
 * <p>{@code limit} counts failed respawns, as the seeds do: with the default 6, crashes 1 to 6
 * within {@code window} (this one included) are each followed by a respawn, and the 7th crash
 * (the 6th respawn failed too) suspends.
 *
 * <ul>
 *   <li>At most {@code limit} crashes within {@code window}: respawn; when a last known good
 *       payload other than the crashing one exists, respawn on that payload (from the first
 *       crash on, as in the seeds' pseudo-code), holding the desired one back until the control
 *       plane sends another payload or generation.
 *   <li>Crash {@code limit + 1} in the window: suspend for a cooldown that starts at
 *       {@code cooldown} and doubles per consecutive suspension up to {@code maxCooldown}.
 *   <li>While suspended: wait; once the cooldown is over: try again.
 *   <li>A new generation or payload lifts a suspension at once.
 *   <li>An agent that ran a whole window before crashing earned the budget back: its
 *       consecutive-suspension count starts over.
 * </ul>
 */
public final class CrashBudget {

  /** What the launcher does next. */
  public enum Action { RESPAWN, FALL_BACK, SUSPEND, WAIT }

  /** Why; flows unchanged into logs, reports and events. */
  public enum Reason {
    CRASH_WITHIN_BUDGET,
    CRASHES_FALL_BACK_TO_LAST_KNOWN_GOOD,
    CRASH_BUDGET_EXHAUSTED,
    COOLDOWN_PENDING,
    COOLDOWN_OVER,
    NEW_VERSION_LIFTS_SUSPENSION
  }

  /** A decision; {@code delay} is the cooldown for SUSPEND, the time left for WAIT, else zero. */
  public record Decision(Action action, Duration delay, Reason reason) {
    public Decision {
      Objects.requireNonNull(action, "action");
      Objects.requireNonNull(delay, "delay");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * The defaults of DESIGN §9: suspended after 6 failed respawns within 300 s (the 7th crash),
   * cooldown 5 min doubling to 1 h.
   */
  public static CrashBudget defaults() {
    return new CrashBudget(Duration.ofSeconds(300), 6, Duration.ofMinutes(5), Duration.ofHours(1));
  }

  private final Duration window;
  private final int limit;
  private final Duration cooldown;
  private final Duration maxCooldown;

  /**
   * @param limit failed respawns tolerated within {@code window}; crash {@code limit + 1}
   *     suspends
   */
  public CrashBudget(Duration window, int limit, Duration cooldown, Duration maxCooldown) {
    this.window = Objects.requireNonNull(window, "window");
    this.cooldown = Objects.requireNonNull(cooldown, "cooldown");
    this.maxCooldown = Objects.requireNonNull(maxCooldown, "maxCooldown");
    this.limit = limit;
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("crash window must be positive, got " + window);
    }
    if (limit < 1) {
      throw new IllegalArgumentException("crash limit (respawns within the window before"
          + " suspension) must be >= 1, got " + limit);
    }
    if (cooldown.isNegative() || cooldown.isZero() || maxCooldown.compareTo(cooldown) < 0) {
      throw new IllegalArgumentException("cooldown " + cooldown + " must be positive and at most "
          + "the maximum cooldown " + maxCooldown);
    }
  }

  public Duration window() {
    return window;
  }

  /**
   * An unplanned exit at {@code now}.
   *
   * @param earlierCrashes crash times recorded before this one (any age; old ones are ignored)
   * @param suspensions consecutive suspensions so far (after {@link #suspensionsCarried})
   */
  public Decision onCrash(List<Instant> earlierCrashes, int suspensions, Instant now) {
    return onCrash(earlierCrashes, suspensions, false, now);
  }

  /**
   * An unplanned exit at {@code now}; {@code canFallBack} when a last known good payload other
   * than the crashing one exists and nothing is held back yet.
   */
  public Decision onCrash(List<Instant> earlierCrashes, int suspensions, boolean canFallBack,
      Instant now) {
    int inWindow = crashesInWindow(earlierCrashes, now) + 1;
    if (inWindow > limit) {
      return new Decision(Action.SUSPEND, cooldown(suspensions), Reason.CRASH_BUDGET_EXHAUSTED);
    }
    if (canFallBack) {
      return new Decision(Action.FALL_BACK, Duration.ZERO,
          Reason.CRASHES_FALL_BACK_TO_LAST_KNOWN_GOOD);
    }
    return new Decision(Action.RESPAWN, Duration.ZERO, Reason.CRASH_WITHIN_BUDGET);
  }

  /** An agent suspended until {@code suspendedUntil}, looked at again at {@code now}. */
  public Decision whileSuspended(Instant suspendedUntil, boolean newVersion, Instant now) {
    Objects.requireNonNull(suspendedUntil, "suspendedUntil");
    if (newVersion) {
      return new Decision(Action.RESPAWN, Duration.ZERO, Reason.NEW_VERSION_LIFTS_SUSPENSION);
    }
    if (now.isBefore(suspendedUntil)) {
      return new Decision(Action.WAIT, Duration.between(now, suspendedUntil),
          Reason.COOLDOWN_PENDING);
    }
    return new Decision(Action.RESPAWN, Duration.ZERO, Reason.COOLDOWN_OVER);
  }

  /** Cooldown of suspension number {@code previous + 1}: 5, 10, 20, 40, 60, 60 … minutes. */
  public Duration cooldown(int previousSuspensions) {
    if (previousSuspensions < 0) {
      throw new IllegalArgumentException("previous suspensions must be >= 0, got "
          + previousSuspensions);
    }
    Duration result = cooldown;
    for (int i = 0; i < previousSuspensions && result.compareTo(maxCooldown) < 0; i++) {
      result = result.multipliedBy(2);
    }
    return result.compareTo(maxCooldown) > 0 ? maxCooldown : result;
  }

  /** Consecutive suspensions after a run of {@code ranFor}: a full stable window resets them. */
  public int suspensionsCarried(int suspensions, Duration ranFor) {
    return ranFor.compareTo(window) >= 0 ? 0 : suspensions;
  }

  /** Crash times still inside the window ending at {@code now}, oldest first. */
  public List<Instant> prune(List<Instant> crashes, Instant now) {
    Instant horizon = now.minus(window);
    return crashes.stream().filter(t -> t.isAfter(horizon)).sorted().toList();
  }

  private int crashesInWindow(List<Instant> crashes, Instant now) {
    return prune(crashes, now).size();
  }
}
