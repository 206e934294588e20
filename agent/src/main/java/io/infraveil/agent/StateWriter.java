package io.infraveil.agent;

import java.io.IOException;
import java.util.Objects;

/**
 * Saves the agent state off the caller's thread, so a restart never waits for a file's fsync
 * (about 20 ms on a busy disk). States are written in the order they were handed over; one
 * handed over while an earlier one is being written replaces any not yet started, since only
 * the latest matters. {@link #flush()} waits until everything handed over so far is on disk.
 *
 * <p>What a crash of the agent can lose is the state handed over in the last moment, exactly
 * what a crash just before handing it over would have lost; the file always holds a whole
 * earlier state, and processes started meanwhile run in the service's cgroup, where the next
 * agent finds and stops them before it starts anew.
 */
final class StateWriter {

  private static final System.Logger LOG = System.getLogger(StateWriter.class.getName());

  private final AgentStateStore store;
  private final Object lock = new Object();
  /** Guarded by {@code lock}. */
  private AgentState pending;
  /** Guarded by {@code lock}: how many states were handed over, and how many are settled. */
  private long submitted;
  private long settled;
  /** Guarded by {@code lock}: a writer thread is running. */
  private boolean writing;

  StateWriter(AgentStateStore store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  /** Hands {@code state} over for writing; returns at once. */
  void submit(AgentState state) {
    Objects.requireNonNull(state, "state");
    synchronized (lock) {
      pending = state;
      submitted++;
      if (writing) {
        return;
      }
      writing = true;
    }
    Thread writer = new Thread(this::drain, "agent-state-writer");
    writer.setDaemon(true);
    writer.start();
  }

  /** Waits until every state handed over before this call has been written (or failed). */
  void flush() {
    boolean interrupted = false;
    synchronized (lock) {
      long target = submitted;
      while (settled < target) {
        try {
          lock.wait();
        } catch (InterruptedException e) {
          interrupted = true; // the write finishes anyway; the caller needs it done
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void drain() {
    while (true) {
      AgentState state;
      long upTo;
      synchronized (lock) {
        if (pending == null) {
          writing = false;
          return;
        }
        state = pending;
        upTo = submitted;
        pending = null;
      }
      try {
        store.save(state);
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "cannot save agent state", e);
      }
      synchronized (lock) {
        settled = upTo;
        lock.notifyAll();
      }
    }
  }
}
