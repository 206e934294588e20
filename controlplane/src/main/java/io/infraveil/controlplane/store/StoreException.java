package io.infraveil.controlplane.store;

/** The database refused or failed an operation; the message says which. */
public final class StoreException extends RuntimeException {
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
