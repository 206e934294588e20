package io.infraveil.controlplane.store;

import java.sql.SQLException;

/** The database refused or failed an operation; the message says which. */
public final class StoreException extends RuntimeException {

  private final String what;

  public StoreException(String message, Throwable cause) {
    super(message, cause);
    this.what = message;
  }

  private StoreException(String what, SQLException cause) {
    super("cannot " + what + ": " + cause.getMessage(), cause);
    this.what = what;
  }

  /** {@code what} was being done when the database answered {@code cause}. */
  static StoreException of(String what, SQLException cause) {
    return new StoreException(what, cause);
  }

  /** What was being done, without the database's message ("store deployment web"). */
  public String what() {
    return what;
  }
}
