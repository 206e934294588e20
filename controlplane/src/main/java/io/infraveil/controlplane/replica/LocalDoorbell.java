package io.infraveil.controlplane.replica;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** Rings within this process: H2 has no notifications, so other processes are polled. */
final class LocalDoorbell implements Doorbell {

  private final Semaphore rung = new Semaphore(0);

  @Override
  public boolean await(Duration max) throws InterruptedException {
    boolean woke = rung.tryAcquire(Math.max(1, max.toMillis()), TimeUnit.MILLISECONDS);
    rung.drainPermits(); // one read covers every ring so far
    return woke;
  }

  @Override
  public void ring() {
    rung.release();
  }

  @Override
  public void close() {
    rung.release();
  }
}
