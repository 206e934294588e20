package io.infraveil.launcher;

import io.infraveil.host.fs.JsonFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code DATA/launcher_state.json}, written atomically (temp file, fsync, rename, fsync dir):
 * a crash between the temp write and the rename leaves the previous state readable, and a
 * stray temp file is never read.
 */
public final class FileStateStore implements StateStore {

  public static final String FILE = "launcher_state.json";

  private final Path file;

  public FileStateStore(Path dataDir) {
    this.file = Objects.requireNonNull(dataDir, "dataDir").resolve(FILE);
  }

  public Path file() {
    return file;
  }

  @Override
  public Optional<LauncherState> load() throws IOException {
    return JsonFiles.read(file, LauncherState.class).map(FileStateStore::withStartTicks);
  }

  /**
   * Agents recorded by an older launcher carry no start ticks; while such an agent still
   * matches by its start time, its ticks are read from /proc so that adoption no longer depends
   * on the wall clock. Agents that do not match keep their saved identity (they are gone).
   */
  private static LauncherState withStartTicks(LauncherState state) {
    LauncherState upgraded = state;
    for (AgentRecord record : state.agents().values()) {
      if (record.process() != null && !record.process().hasStartTicks()) {
        upgraded = upgraded.withAgent(record.withProcessIdentity(record.process().upgraded()));
      }
    }
    return upgraded;
  }

  @Override
  public boolean save(LauncherState state) throws IOException {
    return JsonFiles.write(file, Objects.requireNonNull(state, "state"));
  }
}
