package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.infraveil.launcher.CrashBudget.Action;
import io.infraveil.launcher.CrashBudget.Decision;
import io.infraveil.launcher.CrashBudget.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CrashBudgetTest {

  private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
  private final CrashBudget budget = CrashBudget.defaults();

  private static List<Instant> tenSecondsApart(int count) {
    List<Instant> crashes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      crashes.add(T0.plusSeconds(10L * i));
    }
    return crashes;
  }

  /**
   * Crash n (1-based), all 10 s apart inside the window: crashes 1..6 respawn (the 6th crash is
   * the 5th failed respawn), the 7th (the 6th failed respawn) suspends, as do later ones.
   */
  @ParameterizedTest
  @CsvSource({"1,RESPAWN,CRASH_WITHIN_BUDGET,0", "5,RESPAWN,CRASH_WITHIN_BUDGET,0",
      "6,RESPAWN,CRASH_WITHIN_BUDGET,0", "7,SUSPEND,CRASH_BUDGET_EXHAUSTED,300",
      "8,SUSPEND,CRASH_BUDGET_EXHAUSTED,300"})
  void suspendsAgentAfterSixFailedRespawnsInWindow(int crash, Action action, Reason reason,
      long delaySeconds) {
    Decision decision = budget.onCrash(tenSecondsApart(crash - 1), 0,
        T0.plusSeconds(10L * (crash - 1)));
    assertEquals(new Decision(action, Duration.ofSeconds(delaySeconds), reason), decision);
  }

  /**
   * With a last known good other than the crashing payload, every crash within the budget
   * (from the first) respawns on it; the 7th still suspends.
   */
  @ParameterizedTest
  @CsvSource({"1,FALL_BACK,CRASHES_FALL_BACK_TO_LAST_KNOWN_GOOD",
      "2,FALL_BACK,CRASHES_FALL_BACK_TO_LAST_KNOWN_GOOD",
      "6,FALL_BACK,CRASHES_FALL_BACK_TO_LAST_KNOWN_GOOD",
      "7,SUSPEND,CRASH_BUDGET_EXHAUSTED"})
  void fallsBackToLastKnownGoodFromFirstCrash(int crash, Action action, Reason reason) {
    Decision decision = budget.onCrash(tenSecondsApart(crash - 1), 0, true,
        T0.plusSeconds(10L * (crash - 1)));
    assertEquals(action, decision.action());
    assertEquals(reason, decision.reason());
  }

  /** The window slides: a crash exactly 300 s old no longer counts, one 299 s old does. */
  @ParameterizedTest
  @CsvSource({"300,RESPAWN", "299,SUSPEND"})
  void crashOlderThanWindowDoesNotCount(long ageOfOldest, Action expected) {
    Instant now = T0.plusSeconds(ageOfOldest);
    List<Instant> earlier = List.of(T0, now.minusSeconds(5), now.minusSeconds(4),
        now.minusSeconds(3), now.minusSeconds(2), now.minusSeconds(1));
    assertEquals(expected, budget.onCrash(earlier, 0, now).action());
  }

  /** Cooldown per consecutive suspension: 5, 10, 20, 40, 60, 60 minutes. */
  @ParameterizedTest
  @CsvSource({"0,5", "1,10", "2,20", "3,40", "4,60", "5,60", "40,60"})
  void cooldownDoublesUpToOneHour(int previousSuspensions, long minutes) {
    assertEquals(Duration.ofMinutes(minutes), budget.cooldown(previousSuspensions));
    List<Instant> six = List.of(T0, T0, T0, T0, T0, T0);
    Decision decision = budget.onCrash(six, previousSuspensions, T0);
    assertEquals(new Decision(Action.SUSPEND, Duration.ofMinutes(minutes),
        Reason.CRASH_BUDGET_EXHAUSTED), decision);
  }

  /** A limit of 1: the first crash respawns, the second (the one respawn failed) suspends. */
  @ParameterizedTest
  @CsvSource({"0,RESPAWN", "1,SUSPEND"})
  void limitOneSuspendsOnSecondCrash(int earlier, Action expected) {
    CrashBudget strict = new CrashBudget(Duration.ofSeconds(300), 1, Duration.ofMinutes(5),
        Duration.ofHours(1));
    assertEquals(expected, strict.onCrash(tenSecondsApart(earlier), 0, T0.plusSeconds(100))
        .action());
  }

  @Test
  void waitsUntilCooldownIsOverThenRespawns() {
    Instant until = T0.plus(Duration.ofMinutes(5));
    assertEquals(new Decision(Action.WAIT, Duration.ofSeconds(1), Reason.COOLDOWN_PENDING),
        budget.whileSuspended(until, false, until.minusSeconds(1)));
    assertEquals(new Decision(Action.RESPAWN, Duration.ZERO, Reason.COOLDOWN_OVER),
        budget.whileSuspended(until, false, until));
  }

  @Test
  void newGenerationOrPayloadLiftsSuspension() {
    Instant until = T0.plus(Duration.ofMinutes(40));
    assertEquals(new Decision(Action.RESPAWN, Duration.ZERO, Reason.NEW_VERSION_LIFTS_SUSPENSION),
        budget.whileSuspended(until, true, T0));
  }

  /** A run as long as the window earns the suspension count back; a shorter one does not. */
  @ParameterizedTest
  @CsvSource({"299,3,3", "300,3,0", "3600,5,0"})
  void stableRunResetsConsecutiveSuspensions(long ranSeconds, int before, int after) {
    assertEquals(after, budget.suspensionsCarried(before, Duration.ofSeconds(ranSeconds)));
  }

  @Test
  void refusesZeroLimit() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CrashBudget(Duration.ofSeconds(300), 0, Duration.ofMinutes(5),
            Duration.ofHours(1)));
    assertEquals("crash limit (respawns within the window before suspension) must be >= 1,"
        + " got 0",
        e.getMessage());
  }

  @Test
  void refusesCooldownAboveMaximum() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CrashBudget(Duration.ofSeconds(300), 6, Duration.ofHours(2), Duration.ofHours(1)));
    assertEquals("cooldown PT2H must be positive and at most the maximum cooldown PT1H",
        e.getMessage());
  }
}
