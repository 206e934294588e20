package io.infraveil.host.payload;

import io.infraveil.payload.RejectionReason;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What {@link PayloadCache#ensureCached} found. {@code REJECTED} must not be retried with the
 * same payload (report it as a security event, keep the running version); {@code UNAVAILABLE}
 * (network, disk, another process busy with it) may be retried.
 *
 * @param entry the verified cache entry, only for {@code CACHED}
 * @param reason only for {@code REJECTED}
 * @param evicted set when a cached entry of this hash failed verification and was deleted on
 *     the way (then fetched again: see {@code status}); says why, to be reported once
 */
public record CacheResult(Status status, RejectionReason reason, String message, Path entry,
    String evicted) {

  /** The three outcomes. */
  public enum Status { CACHED, REJECTED, UNAVAILABLE }

  public CacheResult {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(message, "message");
    if ((status == Status.CACHED) != (entry != null)) {
      throw new IllegalArgumentException("entry is set exactly for CACHED, got " + status
          + " with entry " + entry);
    }
    if ((status == Status.REJECTED) != (reason != null)) {
      throw new IllegalArgumentException("reason is set exactly for REJECTED, got " + status
          + " with reason " + reason);
    }
  }

  public static CacheResult cached(Path entry) {
    return new CacheResult(Status.CACHED, null, "cached and verified", entry, null);
  }

  public static CacheResult rejected(RejectionReason reason, String message) {
    return new CacheResult(Status.REJECTED, reason, message, null, null);
  }

  public static CacheResult unavailable(String message) {
    return new CacheResult(Status.UNAVAILABLE, null, message, null, null);
  }

  /** This result, noting that a cached entry failed verification and was evicted first. */
  public CacheResult afterEviction(String why) {
    Objects.requireNonNull(why, "why");
    return new CacheResult(status, reason, message, entry, why);
  }
}
