package io.infraveil.controlplane.incidents;

/** The incident rules, by the name that appears in incidents, events and the API. */
public enum Rule {
  /** A host missed 3 report intervals. */
  HOST_OFFLINE,
  /** The launcher suspended an agent after its crash budget ran out. */
  AGENT_SUSPENDED,
  /** A service is FAILED: healing gave up. */
  SERVICE_FAILED,
  /** An agent rolled back to its last known good version. */
  ROLLED_BACK,
  /** A launcher or agent refused a payload that failed a check. */
  PAYLOAD_REJECTED,
  /** Several certificate or authorization failures by one caller within a window. */
  CERTIFICATE_OR_AUTHORIZATION,
  /** Placed hosts did not run a deployment's new version in time. */
  ROLLOUT_STUCK,
  /** A deployment's latest rollout failed (and, with auto_revert, was reverted). */
  ROLLOUT_FAILED
}
