package io.infraveil.agent;

import java.time.Duration;
import java.util.Objects;

/**
 * Every duration and limit of the supervision engine; defaults from DESIGN §9. Tests use
 * milliseconds.
 */
public record AgentSettings(
    Duration startWatch,
    Duration commandTimeout,
    int healingMaxAttempts,
    Duration healingBackoffInitial,
    Duration healingBackoffMax,
    Duration healingWindow,
    Duration stabilization,
    int deployFailuresBeforeRollback,
    Duration deployFailureWindow,
    Duration tickInterval,
    long logMaxBytes,
    int logKeep,
    int logQueueCapacity,
    int eventCapacity) {

  public static AgentSettings defaults() {
    return new AgentSettings(Duration.ofSeconds(2), Duration.ofMinutes(5), 8,
        Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofMinutes(10),
        Duration.ofSeconds(60), 4, Duration.ofMinutes(10), Duration.ofSeconds(1),
        10L * 1024 * 1024, 3, 10_000, 1_000);
  }

  public AgentSettings {
    positive(startWatch, "startWatch");
    positive(commandTimeout, "commandTimeout");
    positive(healingBackoffInitial, "healingBackoffInitial");
    positive(healingBackoffMax, "healingBackoffMax");
    positive(healingWindow, "healingWindow");
    positive(stabilization, "stabilization");
    positive(deployFailureWindow, "deployFailureWindow");
    positive(tickInterval, "tickInterval");
    atLeastOne(healingMaxAttempts, "healingMaxAttempts");
    atLeastOne(deployFailuresBeforeRollback, "deployFailuresBeforeRollback");
    atLeastOne(logKeep, "logKeep");
    atLeastOne(logQueueCapacity, "logQueueCapacity");
    atLeastOne(eventCapacity, "eventCapacity");
    if (logMaxBytes < 1) {
      throw new IllegalArgumentException("logMaxBytes must be >= 1, got " + logMaxBytes);
    }
    if (healingBackoffMax.compareTo(healingBackoffInitial) < 0) {
      throw new IllegalArgumentException("healingBackoffMax " + healingBackoffMax
          + " is below healingBackoffInitial " + healingBackoffInitial);
    }
  }

  public AgentSettings withStartWatch(Duration value) {
    return new AgentSettings(value, commandTimeout, healingMaxAttempts, healingBackoffInitial,
        healingBackoffMax, healingWindow, stabilization, deployFailuresBeforeRollback,
        deployFailureWindow, tickInterval, logMaxBytes, logKeep, logQueueCapacity, eventCapacity);
  }

  public AgentSettings withHealing(int maxAttempts, Duration initial, Duration max,
      Duration window) {
    return new AgentSettings(startWatch, commandTimeout, maxAttempts, initial, max, window,
        stabilization, deployFailuresBeforeRollback, deployFailureWindow, tickInterval,
        logMaxBytes, logKeep, logQueueCapacity, eventCapacity);
  }

  public AgentSettings withVersions(Duration stabilizationPeriod, int failuresBeforeRollback,
      Duration window) {
    return new AgentSettings(startWatch, commandTimeout, healingMaxAttempts,
        healingBackoffInitial, healingBackoffMax, healingWindow, stabilizationPeriod,
        failuresBeforeRollback, window, tickInterval, logMaxBytes, logKeep, logQueueCapacity,
        eventCapacity);
  }

  public AgentSettings withTick(Duration value) {
    return new AgentSettings(startWatch, commandTimeout, healingMaxAttempts,
        healingBackoffInitial, healingBackoffMax, healingWindow, stabilization,
        deployFailuresBeforeRollback, deployFailureWindow, value, logMaxBytes, logKeep,
        logQueueCapacity, eventCapacity);
  }

  public AgentSettings withLogs(long maxBytes, int keep, int queueCapacity) {
    return new AgentSettings(startWatch, commandTimeout, healingMaxAttempts,
        healingBackoffInitial, healingBackoffMax, healingWindow, stabilization,
        deployFailuresBeforeRollback, deployFailureWindow, tickInterval, maxBytes, keep,
        queueCapacity, eventCapacity);
  }

  private static void positive(Duration value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }

  private static void atLeastOne(long value, String name) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, got " + value);
    }
  }
}
