package io.infraveil.agent;

import java.util.Objects;
import java.util.Optional;

/** What a deploy failure leads to: keep healing the version, or roll back to {@code target}. */
public record RollbackDecision(Action action, Reason reason, int failuresInWindow,
    Optional<String> target) {

  /** The action the supervisor carries out. */
  public enum Action { KEEP, ROLL_BACK }

  /** Why; goes unchanged into events. */
  public enum Reason {
    /** The version is not a candidate (already known good): failures are only healed. */
    NOT_CANDIDATE,
    /** Fewer deploy failures than the limit within the window. */
    BELOW_LIMIT,
    /** The limit was reached and a known good version exists. */
    LIMIT_REACHED,
    /** The limit was reached but no known good version exists to go back to. */
    NO_KNOWN_GOOD
  }

  public RollbackDecision {
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(target, "target");
    if ((action == Action.ROLL_BACK) != target.isPresent()) {
      throw new IllegalArgumentException("a rollback needs a target and only a rollback has one");
    }
  }
}
