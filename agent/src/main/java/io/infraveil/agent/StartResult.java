package io.infraveil.agent;

import java.util.Objects;

/** What {@link Supervisor#start} did; a rejected version is a value, not an exception. */
public record StartResult(Outcome outcome, String message) {

  /** The outcomes of a start request. */
  public enum Outcome {
    /** The version's services are being started (preflight, start, postflight). */
    STARTED,
    /** A previous agent's live processes for this version were adopted. */
    ADOPTED,
    /** This version is already running; nothing was done. */
    ALREADY_RUNNING,
    /** The release could not be used (bad config.yaml, missing dir); the old one keeps running. */
    REJECTED
  }

  public StartResult {
    Objects.requireNonNull(outcome, "outcome");
    message = message == null ? "" : message;
  }
}
