package io.infraveil.agent;

/**
 * Standing of the version the agent runs.
 *
 * <pre>
 *   NONE ──start(sha)──> CANDIDATE ──healthy for the stabilization period──> KNOWN_GOOD
 *                           │
 *                           │ 4th deploy failure in the window (ROLLED_BACK)
 *                           v
 *          marked bad; the last KNOWN_GOOD version is started again (as KNOWN_GOOD)
 * </pre>
 * A version already known good starts as KNOWN_GOOD; its failures are healed but never count
 * as deploy failures, so a rollback cannot loop.
 */
public enum VersionStatus {
  /** Nothing started yet. */
  NONE,
  /** Started, not yet proven: failures count towards rollback. */
  CANDIDATE,
  /** Was healthy for the whole stabilization period; a rollback target. */
  KNOWN_GOOD
}
