package io.infraveil.host.payload;

/**
 * Who chose the payload a host is asked to cache and run. With pinned publisher keys it decides
 * what an older sequence means: from the control plane it is a replay; from the launcher's own
 * crash fallback it is this host going back to a version it accepted and ran before.
 */
public enum PayloadOrigin {
  /** The control plane's desired state: only a newer sequence, or the same version again. */
  CONTROL_PLANE,
  /**
   * The launcher's fallback to its last known good after agent crashes (desired.json says so;
   * only the launcher writes that file): an older sequence is accepted when this host accepted
   * that very (sequence, sha256) for the deployment before.
   */
  LAUNCHER_FALLBACK
}
