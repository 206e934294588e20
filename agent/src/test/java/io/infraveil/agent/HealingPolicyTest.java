package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.host.time.Backoff;
import io.infraveil.host.time.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HealingPolicyTest {

  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
  private final HealingPolicy policy = new HealingPolicy(8, Duration.ofMinutes(10),
      new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), false, RandomGenerator.of(
          "L64X128MixRandom")));

  /** Feeds n failures one second apart, recording each healing attempt, returns the last. */
  private HealingDecision failNTimes(int n, List<Instant> attempts) {
    HealingDecision last = null;
    for (int i = 0; i < n; i++) {
      last = policy.decide(attempts, clock.instant());
      if (last.action() == HealingDecision.Action.HEAL) {
        attempts.add(clock.instant());
      }
      clock.advance(Duration.ofSeconds(1));
    }
    return last;
  }

  // The 7th and 8th failures are healed, the 9th (8 attempts spent) gives up.
  @ParameterizedTest(name = "failure {0}")
  @CsvSource({
      "1, HEAL, 1, WITHIN_BUDGET, 1",
      "2, HEAL, 2, WITHIN_BUDGET, 2",
      "7, HEAL, 64, WITHIN_BUDGET, 7",
      "8, HEAL, 60, WITHIN_BUDGET, 8",
      "9, GIVE_UP, 0, BUDGET_EXHAUSTED, 8",
      "10, GIVE_UP, 0, BUDGET_EXHAUSTED, 8"})
  void healsUpToEightAttemptsThenGivesUp(int failure, HealingDecision.Action action,
      long delaySeconds, HealingDecision.Reason reason, int attempt) {
    HealingDecision decision = failNTimes(failure, new ArrayList<>());
    assertEquals(action, decision.action());
    assertEquals(Duration.ofSeconds(Math.min(delaySeconds, 60)), decision.delay());
    assertEquals(reason, decision.reason());
    assertEquals(attempt, decision.attempt());
  }

  // Backoff doubles from 1 s and is capped at 60 s.
  @Test
  void backoffGrowsAndIsCapped() {
    List<Instant> attempts = new ArrayList<>();
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      HealingDecision d = policy.decide(attempts, clock.instant());
      delays.add(d.delay().toSeconds());
      attempts.add(clock.instant());
    }
    assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 32L, 60L, 60L), delays);
  }

  // Attempts older than the window no longer count: a stable run earns the budget back.
  @Test
  void windowSlidesAndBudgetComesBack() {
    List<Instant> attempts = new ArrayList<>();
    failNTimes(8, attempts); // 8 attempts at t=0..7s
    assertEquals(HealingDecision.Action.GIVE_UP,
        policy.decide(attempts, clock.instant()).action());
    // at t = 10 min + 0.5 s only the attempt at t=0 has left the window (> horizon)
    clock.set(Instant.parse("2030-01-01T00:10:00.500Z"));
    HealingDecision one = policy.decide(attempts, clock.instant());
    assertEquals(HealingDecision.Action.HEAL, one.action());
    assertEquals(8, one.attempt());
    assertEquals(Duration.ofSeconds(60), one.delay());
    // exactly at the window edge of the attempt at t=1s it is gone too
    clock.set(Instant.parse("2030-01-01T00:10:01Z"));
    assertEquals(7, policy.decide(attempts, clock.instant()).attempt());
    clock.set(Instant.parse("2030-01-01T01:00:00Z"));
    HealingDecision fresh = policy.decide(attempts, clock.instant());
    assertEquals(1, fresh.attempt());
    assertEquals(Duration.ofSeconds(1), fresh.delay());
  }
}
