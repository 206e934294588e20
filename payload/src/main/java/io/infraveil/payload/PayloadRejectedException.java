package io.infraveil.payload;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * A payload failed a trust check and must not be used. Checked on purpose, and not an
 * {@link java.io.IOException}: an I/O failure may be retried, a rejection must not be; the
 * caller reports it as a security event and keeps the running version.
 */
public final class PayloadRejectedException extends Exception {

  private static final long serialVersionUID = 1L;

  private final RejectionReason reason;
  private final long recordIndex;

  /** A rejection not tied to one record. */
  public PayloadRejectedException(RejectionReason reason, String detail) {
    this(reason, detail, -1, null);
  }

  /** A rejection not tied to one record, with the underlying failure. */
  public PayloadRejectedException(RejectionReason reason, String detail, Throwable cause) {
    this(reason, detail, -1, cause);
  }

  /** A rejection of the record at {@code recordIndex} (0-based). */
  public PayloadRejectedException(
      RejectionReason reason, String detail, long recordIndex, Throwable cause) {
    super(message(reason, detail, recordIndex), cause);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.recordIndex = recordIndex < 0 ? -1 : recordIndex;
  }

  public RejectionReason reason() {
    return reason;
  }

  /** The 0-based record that failed, when the failure is tied to one record. */
  public OptionalLong recordIndex() {
    return recordIndex < 0 ? OptionalLong.empty() : OptionalLong.of(recordIndex);
  }

  private static String message(RejectionReason reason, String detail, long recordIndex) {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(detail, "detail");
    String where = recordIndex < 0 ? "" : " at record " + recordIndex;
    return "payload rejected (" + reason + ")" + where + ": " + detail
        + "; the payload was not used";
  }
}
