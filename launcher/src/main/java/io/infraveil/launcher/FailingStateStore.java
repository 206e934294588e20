package io.infraveil.launcher;

import java.io.IOException;
import java.util.Optional;

/** A store whose disk is broken: every call fails. Proves callers never act on unsaved state. */
public final class FailingStateStore implements StateStore {

  @Override
  public Optional<LauncherState> load() throws IOException {
    throw new IOException("state store unavailable: reads fail");
  }

  @Override
  public boolean save(LauncherState state) throws IOException {
    throw new IOException("state store unavailable: writes fail");
  }
}
