package io.infraveil.host.time;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with optional full jitter: attempt n waits a random time in
 * [0, min(max, initial * 2^n)] (full jitter) or exactly that cap (no jitter). Full jitter keeps
 * thousands of hosts from reconnecting in lockstep after an outage.
 */
public final class Backoff {

  private final Duration initial;
  private final Duration max;
  private final boolean fullJitter;
  private final RandomGenerator random;

  public Backoff(Duration initial, Duration max, boolean fullJitter, RandomGenerator random) {
    this.initial = Objects.requireNonNull(initial, "initial");
    this.max = Objects.requireNonNull(max, "max");
    this.random = Objects.requireNonNull(random, "random");
    this.fullJitter = fullJitter;
    if (initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("initial backoff must be positive, got " + initial);
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("max backoff " + max + " is below initial " + initial);
    }
  }

  /** The upper bound of the wait before attempt {@code attempt} (0-based). */
  public Duration ceiling(int attempt) {
    if (attempt < 0) {
      throw new IllegalArgumentException("attempt must be >= 0, got " + attempt);
    }
    int shift = Math.min(attempt, 30);
    long millis = initial.toMillis() << shift;
    if (millis <= 0 || millis > max.toMillis()) {
      return max;
    }
    return Duration.ofMillis(millis);
  }

  /** The wait before attempt {@code attempt} (0-based). */
  public Duration delay(int attempt) {
    Duration ceiling = ceiling(attempt);
    if (!fullJitter) {
      return ceiling;
    }
    return Duration.ofMillis(random.nextLong(ceiling.toMillis() + 1));
  }
}
