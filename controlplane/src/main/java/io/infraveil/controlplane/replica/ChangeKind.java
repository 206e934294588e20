package io.infraveil.controlplane.replica;

/** What a committed change is about; the subject of a {@link Change} says which one. */
public enum ChangeKind {
  /** A host's stored desired state changed; subject: the host name. */
  DESIRED_STATE,
  /**
   * The stored desired states of many hosts changed in one commit; subject: how many, detail:
   * the hosts and their revisions ({@code DesiredStateChanges}). One fan-out is a few such rows.
   */
  DESIRED_STATES,
  /** A host's certificates were revoked; subject: the host name. */
  HOST_REVOKED,
  /** An operator's change to a deployment announced on Watch; subject: the deployment, detail: the text. */
  DEPLOYMENT_ANNOUNCED,
  /**
   * A host event that incident rules and rollouts act on, received by the replica named as
   * origin; subject: the host, detail: see {@code SharedHostEvents}.
   */
  HOST_EVENT,
  /**
   * A kind this release does not know, written by a newer replica during a rolling upgrade:
   * read and passed over (no listener takes it), so the feed moves on instead of failing on
   * the same row. Never written.
   */
  UNKNOWN;

  /** The kind stored as {@code name}; {@link #UNKNOWN} for a name this release does not know. */
  static ChangeKind parse(String name) {
    for (ChangeKind kind : values()) {
      if (kind != UNKNOWN && kind.name().equals(name)) {
        return kind;
      }
    }
    return UNKNOWN;
  }
}
