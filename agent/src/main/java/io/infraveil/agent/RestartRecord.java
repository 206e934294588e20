package io.infraveil.agent;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What a service has spent of its healing budget: the restarts counted since it was last
 * stable, how many of the latest crashes in a row were quick (the backoff step), and when the
 * latest restart was due to begin (the failure's time plus its delay). Immutable; {@link HealingPolicy} returns the next one with each
 * decision and the runner keeps it.
 */
public record RestartRecord(int counted, int quickStreak, Optional<Instant> lastRestartAt) {

  /** Nothing spent: a fresh start, or a budget earned back by a stable run. */
  public static final RestartRecord NONE = new RestartRecord(0, 0, Optional.empty());

  public RestartRecord {
    if (counted < 0) {
      throw new IllegalArgumentException("counted must be >= 0, got " + counted);
    }
    if (quickStreak < 0) {
      throw new IllegalArgumentException("quickStreak must be >= 0, got " + quickStreak);
    }
    Objects.requireNonNull(lastRestartAt, "lastRestartAt");
  }
}
