package io.infraveil.agent;

import java.time.Instant;
import java.util.Objects;

/**
 * Something that happened, for the heartbeat and incidents. {@code reason} is the name of an
 * enum constant ({@link FailureCause}, {@link HealingDecision.Reason},
 * {@link RollbackDecision.Reason}); {@code service} is empty for version events.
 */
public record AgentEvent(Instant at, Kind kind, String service, String reason, String message,
    String sha256) {

  /** Mirrors {@code infraveil.v1.EventKind}. */
  public enum Kind {
    PAYLOAD_REJECTED,
    SERVICE_UNHEALTHY,
    SERVICE_RECOVERED,
    SERVICE_FAILED,
    DEPLOY_FAILED,
    ROLLED_BACK,
    VERSION_KNOWN_GOOD,
    VERSION_STARTED
  }

  public AgentEvent {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(kind, "kind");
    service = service == null ? "" : service;
    reason = reason == null ? "" : reason;
    message = message == null ? "" : message;
    sha256 = sha256 == null ? "" : sha256;
  }
}
