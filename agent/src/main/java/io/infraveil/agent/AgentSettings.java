package io.infraveil.agent;

import io.infraveil.host.time.Backoff;
import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Every duration and limit of the supervision engine; defaults from DESIGN §9. Tests use
 * milliseconds.
 */
public record AgentSettings(
    Duration startWatch,
    Duration commandTimeout,
    int healingMaxRestarts,
    Duration healingBackoffInitial,
    Duration healingBackoffMax,
    Duration healingStablePeriod,
    Duration healingQuickCrash,
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
        Duration.ofMillis(100), Duration.ofSeconds(10), Duration.ofMinutes(10),
        Duration.ofSeconds(10), Duration.ofSeconds(60), 4, Duration.ofMinutes(10),
        Duration.ofSeconds(1), 10L * 1024 * 1024, 3, 10_000, 1_000);
  }

  public AgentSettings {
    positive(startWatch, "startWatch");
    positive(commandTimeout, "commandTimeout");
    positive(healingBackoffInitial, "healingBackoffInitial");
    positive(healingBackoffMax, "healingBackoffMax");
    positive(healingStablePeriod, "healingStablePeriod");
    positive(healingQuickCrash, "healingQuickCrash");
    positive(stabilization, "stabilization");
    positive(deployFailureWindow, "deployFailureWindow");
    positive(tickInterval, "tickInterval");
    atLeastOne(healingMaxRestarts, "healingMaxRestarts");
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
    return new AgentSettings(value, commandTimeout, healingMaxRestarts, healingBackoffInitial,
        healingBackoffMax, healingStablePeriod, healingQuickCrash, stabilization,
        deployFailuresBeforeRollback, deployFailureWindow, tickInterval, logMaxBytes, logKeep,
        logQueueCapacity, eventCapacity);
  }

  /**
   * The healing budget: {@code maxRestarts} restarts, earned back after {@code stablePeriod}
   * healthy; repeated quick crashes wait from {@code backoffInitial} doubling to
   * {@code backoffMax}.
   */
  public AgentSettings withHealing(int maxRestarts, Duration backoffInitial, Duration backoffMax,
      Duration stablePeriod) {
    return new AgentSettings(startWatch, commandTimeout, maxRestarts, backoffInitial, backoffMax,
        stablePeriod, healingQuickCrash, stabilization, deployFailuresBeforeRollback,
        deployFailureWindow, tickInterval, logMaxBytes, logKeep, logQueueCapacity,
        eventCapacity);
  }

  /** A crash within {@code value} of the previous restart is quick and backs off. */
  public AgentSettings withQuickCrash(Duration value) {
    return new AgentSettings(startWatch, commandTimeout, healingMaxRestarts,
        healingBackoffInitial, healingBackoffMax, healingStablePeriod, value, stabilization,
        deployFailuresBeforeRollback, deployFailureWindow, tickInterval, logMaxBytes, logKeep,
        logQueueCapacity, eventCapacity);
  }

  public AgentSettings withVersions(Duration stabilizationPeriod, int failuresBeforeRollback,
      Duration window) {
    return new AgentSettings(startWatch, commandTimeout, healingMaxRestarts,
        healingBackoffInitial, healingBackoffMax, healingStablePeriod, healingQuickCrash,
        stabilizationPeriod, failuresBeforeRollback, window, tickInterval, logMaxBytes, logKeep,
        logQueueCapacity, eventCapacity);
  }

  public AgentSettings withTick(Duration value) {
    return new AgentSettings(startWatch, commandTimeout, healingMaxRestarts,
        healingBackoffInitial, healingBackoffMax, healingStablePeriod, healingQuickCrash,
        stabilization, deployFailuresBeforeRollback, deployFailureWindow, value, logMaxBytes,
        logKeep, logQueueCapacity, eventCapacity);
  }

  public AgentSettings withLogs(long maxBytes, int keep, int queueCapacity) {
    return new AgentSettings(startWatch, commandTimeout, healingMaxRestarts,
        healingBackoffInitial, healingBackoffMax, healingStablePeriod, healingQuickCrash,
        stabilization, deployFailuresBeforeRollback, deployFailureWindow, tickInterval, maxBytes,
        keep, queueCapacity, eventCapacity);
  }

  /** The policy these settings describe. */
  public HealingPolicy healingPolicy() {
    return new HealingPolicy(healingMaxRestarts, healingStablePeriod, healingQuickCrash,
        new Backoff(healingBackoffInitial, healingBackoffMax, false,
            RandomGenerator.getDefault()));
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
