package io.infraveil.host.payload;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import java.util.Objects;

/**
 * Outcome of a trust check: accepted, or rejected with a reason that flows unchanged into
 * security events. A rejection is an expected outcome, hence a value and not an exception.
 */
public record Verification(RejectionReason reason, String message) {

  private static final Verification OK = new Verification(null, "verified");

  public Verification {
    Objects.requireNonNull(message, "message");
  }

  public static Verification ok() {
    return OK;
  }

  public static Verification rejected(RejectionReason reason, String message) {
    return new Verification(Objects.requireNonNull(reason, "reason"), message);
  }

  static Verification of(PayloadRejectedException e) {
    return rejected(e.reason(), e.getMessage());
  }

  public boolean isOk() {
    return reason == null;
  }
}
