package io.infraveil.controlplane.replica;

import java.time.Instant;
import java.util.Objects;

/**
 * One row of the change log: a committed change every replica acts on.
 *
 * @param id grows with each change (the database's identity column)
 * @param origin the replica that made it
 */
public record Change(long id, ChangeKind kind, String subject, String detail, String origin, Instant at) {
  public Change {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(at, "at");
  }
}
