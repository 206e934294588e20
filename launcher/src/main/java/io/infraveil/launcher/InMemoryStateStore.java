package io.infraveil.launcher;

import java.util.Objects;
import java.util.Optional;

/** Keeps the state in memory; for tests and for running without a data dir. */
public final class InMemoryStateStore implements StateStore {

  private final Object lock = new Object();
  /** Guarded by {@code lock}. */
  private LauncherState state;
  /** Guarded by {@code lock}. */
  private int writes;

  @Override
  public Optional<LauncherState> load() {
    synchronized (lock) {
      return Optional.ofNullable(state);
    }
  }

  @Override
  public boolean save(LauncherState newState) {
    Objects.requireNonNull(newState, "state");
    synchronized (lock) {
      if (newState.equals(state)) {
        return false;
      }
      state = newState;
      writes++;
      return true;
    }
  }

  /** How many saves changed the state. */
  public int writes() {
    synchronized (lock) {
      return writes;
    }
  }
}
