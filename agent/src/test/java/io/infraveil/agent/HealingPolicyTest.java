package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.infraveil.host.time.Backoff;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The healing budget's boundaries, with DESIGN §9's defaults and a clock in milliseconds. */
class HealingPolicyTest {

  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private static final Duration STABLE = Duration.ofMinutes(10);
  private static final Duration QUICK = Duration.ofSeconds(10);

  private final HealingPolicy policy = policy(8, Duration.ofSeconds(10));

  private static HealingPolicy policy(int maxRestarts, Duration backoffCap) {
    return new HealingPolicy(maxRestarts, STABLE, QUICK, new Backoff(Duration.ofMillis(100),
        backoffCap, false, RandomGenerator.of("L64X128MixRandom")));
  }

  /** What one run of crashes looked like: every decision, in order. */
  private record Run(List<HealingDecision> decisions, RestartRecord record, Instant now) {}

  /**
   * Crashes {@code crashes} times; each crash comes {@code upFor} after the restart began, and
   * the service was healthy from its restart (so healthy for {@code upFor} when it crashed).
   */
  private static Run crash(HealingPolicy policy, int crashes, Duration upFor) {
    List<HealingDecision> decisions = new ArrayList<>();
    RestartRecord record = RestartRecord.NONE;
    Instant now = T0;
    Optional<Instant> healthySince = Optional.of(T0.minus(upFor));
    for (int i = 0; i < crashes; i++) {
      HealingDecision decision = policy.decide(record, healthySince, now);
      decisions.add(decision);
      record = decision.next();
      if (decision.action() == HealingDecision.Action.GIVE_UP) {
        break;
      }
      Instant restarted = now.plus(decision.delay());
      healthySince = Optional.of(restarted);
      now = restarted.plus(upFor);
    }
    return new Run(decisions, record, now);
  }

  // Crashing right after each restart: the 1st restart is at once, the next ones back off from
  // 100 ms doubling; the 8th restart happens, the 9th crash is FAILED (BUDGET_EXHAUSTED).
  @ParameterizedTest(name = "crash {0}: {1} after {2} ms ({3}), restart {4}")
  @CsvSource({
      "1, HEAL, 0, RESTART_AT_ONCE, 1",
      "2, HEAL, 100, QUICK_CRASH_BACKOFF, 2",
      "3, HEAL, 200, QUICK_CRASH_BACKOFF, 3",
      "4, HEAL, 400, QUICK_CRASH_BACKOFF, 4",
      "7, HEAL, 3200, QUICK_CRASH_BACKOFF, 7",
      "8, HEAL, 6400, QUICK_CRASH_BACKOFF, 8",
      "9, GIVE_UP, 0, BUDGET_EXHAUSTED, 8"})
  void eighthRestartHappensNinthCrashFails(int crash, HealingDecision.Action action,
      long delayMillis, HealingDecision.Reason reason, int restart) {
    Run run = crash(policy, crash, Duration.ofMillis(50));
    assertEquals(crash, run.decisions().size());
    HealingDecision decision = run.decisions().get(crash - 1);
    assertEquals(action, decision.action());
    assertEquals(Duration.ofMillis(delayMillis), decision.delay());
    assertEquals(reason, decision.reason());
    assertEquals(restart, decision.restart());
    assertEquals(restart, decision.next().counted());
  }

  // After FAILED nothing changes however often it is asked: the service is left alone.
  @Test
  void givingUpIsFinalForTheSameRecord() {
    Run run = crash(policy, 9, Duration.ofMillis(50));
    HealingDecision again = policy.decide(run.record(), Optional.empty(),
        run.now().plus(Duration.ofHours(5)));
    assertEquals(HealingDecision.Action.GIVE_UP, again.action());
    assertEquals(8, again.restart());
    assertEquals(run.record(), again.next());
  }

  // The backoff doubles from 100 ms and stops at its cap (here 1 s, with a larger budget).
  @Test
  void quickCrashBackoffIsCapped() {
    Run run = crash(policy(20, Duration.ofSeconds(1)), 9, Duration.ofMillis(50));
    assertEquals(List.of(0L, 100L, 200L, 400L, 800L, 1000L, 1000L, 1000L, 1000L),
        run.decisions().stream().map(d -> d.delay().toMillis()).toList());
  }

  // A service crashing every 75 s is never quick (restarted at once every time) and never
  // stable for 10 min: it reaches the limit; the 9th crash, 10 min after the first, is FAILED.
  @Test
  void crashEvery75SecondsReachesTheLimit() {
    Run run = crash(policy, 100, Duration.ofSeconds(75));
    assertEquals(9, run.decisions().size());
    for (HealingDecision d : run.decisions().subList(0, 8)) {
      assertEquals(HealingDecision.Action.HEAL, d.action());
      assertEquals(Duration.ZERO, d.delay());
      assertEquals(HealingDecision.Reason.RESTART_AT_ONCE, d.reason());
    }
    HealingDecision last = run.decisions().get(8);
    assertEquals(HealingDecision.Action.GIVE_UP, last.action());
    assertEquals(HealingDecision.Reason.BUDGET_EXHAUSTED, last.reason());
    assertEquals(T0.plus(Duration.ofSeconds(8 * 75)), run.now());
  }

  // 8 restarts spent; healthy since the 8th: a crash 1 ms short of 10 min is the 9th crash
  // (FAILED); a crash at 10 min exactly finds the budget earned back (restart 1, at once).
  @ParameterizedTest(name = "healthy for {0} ms")
  @CsvSource({
      "599999, GIVE_UP, BUDGET_EXHAUSTED, 8",
      "600000, HEAL, RESTART_AT_ONCE, 1",
      "3600000, HEAL, RESTART_AT_ONCE, 1"})
  void stableTenMinutesEarnsTheBudgetBack(long healthyMillis, HealingDecision.Action action,
      HealingDecision.Reason reason, int restart) {
    Run spent = crash(policy, 8, Duration.ofMillis(50));
    assertEquals(8, spent.record().counted());
    Instant healthySince = spent.now().minusMillis(50);
    Instant crashAt = healthySince.plusMillis(healthyMillis);
    assertEquals(restart == 1 ? 0 : 8, policy.standing(spent.record(),
        Optional.of(healthySince), crashAt).counted());
    HealingDecision decision = policy.decide(spent.record(), Optional.of(healthySince), crashAt);
    assertEquals(action, decision.action());
    assertEquals(reason, decision.reason());
    assertEquals(restart, decision.restart());
    assertEquals(Duration.ZERO, decision.delay());
  }

  // Time alone earns nothing back: a service that was never healthy keeps what it spent.
  @Test
  void timeWithoutHealthEarnsNothing() {
    Run spent = crash(policy, 8, Duration.ofMillis(50));
    Instant muchLater = spent.now().plus(Duration.ofDays(1));
    assertEquals(8, policy.standing(spent.record(), Optional.empty(), muchLater).counted());
    assertEquals(HealingDecision.Action.GIVE_UP,
        policy.decide(spent.record(), Optional.empty(), muchLater).action());
  }

  // A crash exactly quickCrash after the restart is not quick (at once, streak reset); 1 ms
  // earlier it is, and backs off one step further.
  @ParameterizedTest(name = "crash {0} ms after the restart")
  @CsvSource({
      "9999, 200, QUICK_CRASH_BACKOFF, 2",
      "10000, 0, RESTART_AT_ONCE, 0"})
  void quickCrashBoundary(long afterMillis, long delayMillis, HealingDecision.Reason reason,
      int streak) {
    RestartRecord afterAQuickCrash = new RestartRecord(3, 1, Optional.of(T0));
    HealingDecision decision = policy.decide(afterAQuickCrash, Optional.of(T0),
        T0.plusMillis(afterMillis));
    assertEquals(Duration.ofMillis(delayMillis), decision.delay());
    assertEquals(reason, decision.reason());
    assertEquals(4, decision.restart());
    assertEquals(new RestartRecord(4, streak, Optional.of(T0.plusMillis(afterMillis)
        .plusMillis(delayMillis))), decision.next());
  }

  // Bad settings are refused with the value named.
  @Test
  void refusesBadSettings() {
    Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10), false,
        RandomGenerator.getDefault());
    assertEquals("maxRestarts must be >= 1, got 0", assertThrows(IllegalArgumentException.class,
        () -> new HealingPolicy(0, STABLE, QUICK, backoff)).getMessage());
    assertEquals("stablePeriod must be positive, got PT0S", assertThrows(
        IllegalArgumentException.class,
        () -> new HealingPolicy(8, Duration.ZERO, QUICK, backoff)).getMessage());
    assertEquals("GIVE_UP does not go with reason RESTART_AT_ONCE", assertThrows(
        IllegalArgumentException.class, () -> new HealingDecision(HealingDecision.Action.GIVE_UP,
            Duration.ZERO, HealingDecision.Reason.RESTART_AT_ONCE, 1, RestartRecord.NONE))
        .getMessage());
  }
}
