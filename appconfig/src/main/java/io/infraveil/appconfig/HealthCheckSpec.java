package io.infraveil.appconfig;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code healthcheck} block. Healthy when {@code cmd} finishes within {@code timeout} and its
 * output contains {@code test}, or exits 0 when there is no {@code test}.
 */
public record HealthCheckSpec(String cmd, Optional<String> test, Duration interval,
    Duration timeout) {

  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  public HealthCheckSpec {
    Objects.requireNonNull(cmd, "cmd");
    Objects.requireNonNull(test, "test");
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(timeout, "timeout");
    if (cmd.isBlank()) {
      throw new IllegalArgumentException("healthcheck.cmd must not be blank");
    }
    if (interval.isNegative() || interval.isZero() || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "healthcheck interval and timeout must be positive, got " + interval + ", " + timeout);
    }
  }
}
