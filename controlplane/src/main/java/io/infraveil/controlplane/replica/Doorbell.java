package io.infraveil.controlplane.replica;

import java.time.Duration;

/** Wakes the change reader when the log may have grown. */
interface Doorbell extends AutoCloseable {

  /**
   * Waits at most {@code max} for a ring. True when the log may have grown (a ring, or a
   * reconnection after which anything may have been missed); false on a quiet timeout.
   */
  boolean await(Duration max) throws InterruptedException;

  /** A change was committed by this process. */
  void ring();

  @Override
  void close();
}
