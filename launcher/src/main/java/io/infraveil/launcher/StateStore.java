package io.infraveil.launcher;

import java.io.IOException;
import java.util.Optional;

/** Where the launcher keeps its state between runs. */
public interface StateStore {

  /** The last saved state, or empty when none was ever saved. */
  Optional<LauncherState> load() throws IOException;

  /**
   * A second copy to recover from when {@link #load} fails; empty when the store keeps none.
   */
  default Optional<LauncherState> loadBackup() throws IOException {
    return Optional.empty();
  }

  /** Saves the state durably; returns false when it equals what is stored (nothing written). */
  boolean save(LauncherState state) throws IOException;
}
