package io.infraveil.agent.main;

import java.io.IOException;

/**
 * A cache entry whose bytes no longer verify (replaced or damaged at rest): the entry must be
 * evicted and fetched again, not refused for ever.
 */
final class CachedBytesRejectedException extends IOException {

  private static final long serialVersionUID = 1L;

  CachedBytesRejectedException(String message, Throwable cause) {
    super(message, cause);
  }
}
