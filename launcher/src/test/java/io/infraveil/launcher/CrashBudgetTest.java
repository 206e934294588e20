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

  /** Crash n (1-based), all 10 s apart inside the window: 1..5 respawn, the 6th suspends. */
  @ParameterizedTest
  @CsvSource({"1,RESPAWN,CRASH_WITHIN_BUDGET,0", "5,RESPAWN,CRASH_WITHIN_BUDGET,0",
      "6,SUSPEND,CRASH_BUDGET_EXHAUSTED,300", "7,SUSPEND,CRASH_BUDGET_EXHAUSTED,300"})
  void suspendsAgentAfterSixCrashesInWindow(int crash, Action action, Reason reason,
      long delaySeconds) {
    List<Instant> earlier = new ArrayList<>();
    for (int i = 0; i < crash - 1; i++) {
      earlier.add(T0.plusSeconds(10L * i));
    }
    Decision decision = budget.onCrash(earlier, 0, T0.plusSeconds(10L * (crash - 1)));
    assertEquals(action, decision.action());
    assertEquals(reason, decision.reason());
    assertEquals(Duration.ofSeconds(delaySeconds), decision.delay());
  }

  /** The window slides: a crash exactly 300 s old no longer counts, one 299 s old does. */
  @ParameterizedTest
  @CsvSource({"300,RESPAWN", "299,SUSPEND"})
  void crashOlderThanWindowDoesNotCount(long ageOfOldest, Action expected) {
    Instant now = T0.plusSeconds(ageOfOldest);
    List<Instant> earlier = List.of(T0, now.minusSeconds(4), now.minusSeconds(3),
        now.minusSeconds(2), now.minusSeconds(1));
    assertEquals(expected, budget.onCrash(earlier, 0, now).action());
  }

  /** Cooldown per consecutive suspension: 5, 10, 20, 40, 60, 60 minutes. */
  @ParameterizedTest
  @CsvSource({"0,5", "1,10", "2,20", "3,40", "4,60", "5,60", "40,60"})
  void cooldownDoublesUpToOneHour(int previousSuspensions, long minutes) {
    assertEquals(Duration.ofMinutes(minutes), budget.cooldown(previousSuspensions));
    List<Instant> five = List.of(T0, T0, T0, T0, T0);
    Decision decision = budget.onCrash(five, previousSuspensions, T0);
    assertEquals(new Decision(Action.SUSPEND, Duration.ofMinutes(minutes),
        Reason.CRASH_BUDGET_EXHAUSTED), decision);
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
  void refusesCooldownAboveMaximum() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CrashBudget(Duration.ofSeconds(300), 6, Duration.ofHours(2), Duration.ofHours(1)));
    assertEquals("cooldown PT2H must be positive and at most the maximum cooldown PT1H",
        e.getMessage());
  }
}
