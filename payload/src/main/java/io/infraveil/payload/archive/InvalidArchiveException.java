package io.infraveil.payload.archive;

import java.io.IOException;

/**
 * The archive's content is unacceptable (a path escaping the target, a device file, no
 * config.yaml, too large). Retrying the same bytes gives the same answer; the publisher has
 * to fix the application directory.
 */
public final class InvalidArchiveException extends IOException {

  private static final long serialVersionUID = 1L;

  public InvalidArchiveException(String message) {
    super(message);
  }

  public InvalidArchiveException(String message, Throwable cause) {
    super(message, cause);
  }
}
