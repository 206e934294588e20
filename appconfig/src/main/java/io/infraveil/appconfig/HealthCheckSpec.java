package io.infraveil.appconfig;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code healthcheck} block. Healthy when {@code cmd} finishes within {@code timeout} and its
 * output contains {@code test}, or exits 0 when there is no {@code test}. {@code startPeriod}
 * (default 0) is how long after a start the confirming check may keep failing before the start
 * counts as failed: for services that take a while to listen.
 */
public record HealthCheckSpec(String cmd, Optional<String> test, Duration interval,
    Duration timeout, Duration startPeriod) {

  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_START_PERIOD = Duration.ZERO;

  /** A check without a start period. */
  public HealthCheckSpec(String cmd, Optional<String> test, Duration interval, Duration timeout) {
    this(cmd, test, interval, timeout, DEFAULT_START_PERIOD);
  }

  public HealthCheckSpec {
    Objects.requireNonNull(cmd, "cmd");
    Objects.requireNonNull(test, "test");
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(startPeriod, "startPeriod");
    if (startPeriod.isNegative()) {
      throw new IllegalArgumentException("healthcheck.start_period must not be negative, got " + startPeriod);
    }
    if (cmd.isBlank()) {
      throw new IllegalArgumentException("healthcheck.cmd must not be blank");
    }
    if (interval.isNegative() || interval.isZero() || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "healthcheck interval and timeout must be positive, got " + interval + ", " + timeout);
    }
  }
}
