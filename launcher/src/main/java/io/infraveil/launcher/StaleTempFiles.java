package io.infraveil.launcher;

import io.infraveil.host.fs.AtomicFiles;
import io.infraveil.host.grpc.HostIdentityFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Removes, at launcher start, the temp files a crash or power cut left while the launcher was
 * writing one of its own files: the state file, the host identity and each agent's
 * desired.json. They are never read (a rename is what publishes a write), but they would pile
 * up. Agents' own files are the agents' to clean: an agent may be writing one right now.
 */
final class StaleTempFiles {

  private StaleTempFiles() {}

  /** Removes them and logs one {@code temp_removed} line per file; returns what was removed. */
  static List<Path> removeAtStart(Path dataDir, HostIdentityFiles identity, LauncherLog log)
      throws IOException {
    List<Path> removed = new ArrayList<>(
        AtomicFiles.removeStaleTemps(dataDir, List.of(FileStateStore.FILE)));
    removed.addAll(identity.removeStaleTemps());
    Path agents = dataDir.resolve("agents");
    if (Files.isDirectory(agents)) {
      try (DirectoryStream<Path> dirs = Files.newDirectoryStream(agents, Files::isDirectory)) {
        for (Path dir : dirs) {
          removed.addAll(AtomicFiles.removeStaleTemps(dir, List.of(AgentDesiredFile.FILE)));
        }
      }
    }
    removed.forEach(file -> log.event("temp_removed", "file", file,
        "reason", "LEFT_BY_INTERRUPTED_WRITE"));
    return removed;
  }
}
