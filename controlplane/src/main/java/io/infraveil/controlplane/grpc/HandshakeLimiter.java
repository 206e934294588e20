package io.infraveil.controlplane.grpc;

import java.util.ArrayDeque;

/**
 * A bound on TLS handshakes in progress at once, with a first-come queue for the rest. In a
 * reconnect storm thousands of connections arrive together; started all at once, each
 * handshake gets a sliver of the CPU, overruns its 10 s timeout and fails (the host then
 * retries, adding to the storm). Queued, each runs at full speed in its turn.
 */
public final class HandshakeLimiter {

  /** A snapshot for figures and tests. */
  public record Stats(int limit, int inProgress, int waiting, long started, long queued, int peakWaiting) {}

  private final int limit;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>(); // guarded by this
  private int inProgress; // guarded by this
  private long started; // guarded by this
  private long queued; // guarded by this
  private int peakWaiting; // guarded by this

  public HandshakeLimiter(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("the handshake limit must be at least 1, got " + limit);
    }
    this.limit = limit;
  }

  /**
   * Runs {@code onTurn} now (on this thread) when fewer than the limit are in progress, else
   * queues it, to run on the thread of the {@link #release()} that frees a place. Whoever got
   * a turn must call {@link #release()} exactly once when its handshake ends.
   */
  public void acquire(Runnable onTurn) {
    synchronized (this) {
      if (inProgress >= limit) {
        waiting.add(onTurn);
        queued++;
        peakWaiting = Math.max(peakWaiting, waiting.size());
        return;
      }
      inProgress++;
      started++;
    }
    onTurn.run();
  }

  /** Leaves the queue (the connection closed while waiting); false when its turn had come. */
  public synchronized boolean cancel(Runnable onTurn) {
    return waiting.removeFirstOccurrence(onTurn);
  }

  /** Ends one handshake in progress; the next waiting one, if any, takes its place. */
  public void release() {
    Runnable next;
    synchronized (this) {
      next = waiting.poll();
      if (next == null) {
        if (inProgress == 0) {
          throw new IllegalStateException("release() without a handshake in progress");
        }
        inProgress--;
        return;
      }
      started++;
    }
    next.run();
  }

  public synchronized Stats stats() {
    return new Stats(limit, inProgress, waiting.size(), started, queued, peakWaiting);
  }
}
