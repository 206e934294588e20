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
 *
 * <p>Every save then writes the same state, atomically too, to {@code launcher_state.json.prev}.
 * The two files are never written at the same moment, so whatever tears or scrambles one of
 * them (a power cut on a file system that reorders writes, a bad block), the other still holds
 * the latest state or the one before it: crash histories and cooldowns survive.
 */
public final class FileStateStore implements StateStore {

  public static final String FILE = "launcher_state.json";
  public static final String BACKUP = FILE + ".prev";

  private final Path file;
  private final Path backup;

  public FileStateStore(Path dataDir) {
    this.file = Objects.requireNonNull(dataDir, "dataDir").resolve(FILE);
    this.backup = dataDir.resolve(BACKUP);
  }

  public Path file() {
    return file;
  }

  public Path backupFile() {
    return backup;
  }

  @Override
  public Optional<LauncherState> load() throws IOException {
    return read(file);
  }

  @Override
  public Optional<LauncherState> loadBackup() throws IOException {
    return read(backup);
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
    boolean changed = JsonFiles.write(file, Objects.requireNonNull(state, "state"));
    JsonFiles.write(backup, state); // after the main file is durable; unchanged is not rewritten
    return changed;
  }

  private static Optional<LauncherState> read(Path path) throws IOException {
    try {
      return JsonFiles.read(path, LauncherState.class).map(FileStateStore::withStartTicks);
    } catch (RuntimeException malformed) {
      throw new IOException("cannot read " + path + ": " + malformed.getMessage(), malformed);
    }
  }
}
