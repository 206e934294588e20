package io.infraveil.agent;

/** Result of the latest health check; mirrors {@code infraveil.v1.HealthStatus}. */
public enum Health {
  /** No check has completed since the service (re)started. */
  UNKNOWN,
  /** The latest check finished in time and its output contained the expected text. */
  HEALTHY,
  /** The latest check failed, timed out or did not contain the expected text. */
  UNHEALTHY
}
