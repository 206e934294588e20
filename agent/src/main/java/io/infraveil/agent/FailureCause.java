package io.infraveil.agent;

/** Why a service needed healing; flows unchanged into events and snapshots. */
public enum FailureCause {
  /** A preflight command exited non-zero or timed out. */
  PREFLIGHT_FAILED,
  /** A start command exited non-zero within the start watch, or could not be started. */
  START_FAILED,
  /** A postflight command exited non-zero or timed out. */
  POSTFLIGHT_FAILED,
  /** A supervised process exited. */
  PROCESS_EXITED,
  /** The health check failed, timed out or its output lacked the expected text. */
  CHECK_FAILED,
  /** The kernel's OOM killer killed a process at the service's memory limit (a crash). */
  OOM_KILLED
}
