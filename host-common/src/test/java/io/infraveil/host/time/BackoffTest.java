package io.infraveil.host.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class BackoffTest {

  /** Ceilings double from 1 s and stop at 30 s, for any attempt, including huge ones. */
  @ParameterizedTest
  @CsvSource({"0,1000", "1,2000", "2,4000", "3,8000", "4,16000", "5,30000", "6,30000",
      "31,30000", "1000,30000"})
  void ceilingDoublesUpToMax(int attempt, long expectedMillis) {
    Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), true,
        new SplittableRandom(1));
    assertEquals(Duration.ofMillis(expectedMillis), backoff.ceiling(attempt));
  }

  @Test
  void withoutJitterDelayIsTheCeiling() {
    Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), false,
        new SplittableRandom(1));
    assertEquals(Duration.ofSeconds(4), backoff.delay(2));
    assertEquals(Duration.ofSeconds(30), backoff.delay(9));
  }

  /** Full jitter stays within [0, ceiling] and actually spreads (a seeded random pins it). */
  @Test
  void fullJitterStaysWithinBoundsAndSpreads() {
    Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), true,
        new SplittableRandom(42));
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      long millis = backoff.delay(3).toMillis();
      assertTrue(millis >= 0 && millis <= 8000, "delay " + millis + " outside [0, 8000]");
      seen.add(millis);
    }
    assertTrue(seen.size() > 500, "only " + seen.size() + " distinct delays");
  }

  @Test
  void sameSeedGivesSameDelays() {
    Backoff a = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), true, new SplittableRandom(7));
    Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), true, new SplittableRandom(7));
    Backoff c = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), true, new SplittableRandom(8));
    assertEquals(a.delay(5), b.delay(5));
    assertNotEquals(a.delay(5), c.delay(5));
  }

  @Test
  void refusesMaxBelowInitial() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Backoff(Duration.ofSeconds(5), Duration.ofSeconds(1), true, new SplittableRandom()));
    assertEquals("max backoff PT1S is below initial PT5S", e.getMessage());
  }

  @Test
  void refusesNegativeAttempt() {
    Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), true, new SplittableRandom());
    assertThrows(IllegalArgumentException.class, () -> backoff.ceiling(-1));
  }
}
