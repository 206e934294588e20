package io.infraveil.launcher;

import io.infraveil.host.fs.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * At start, before anything is written: removes the temp files a killed launcher left beside
 * the files only the launcher writes ({@code launcher_state.json}, its {@code .prev} and every
 * agent's {@code desired.json}). Temps of files the agents write are theirs to keep.
 */
final class StaleTemps {

  private StaleTemps() {}

  /** What was removed; a directory that cannot be listed is skipped and named in problems. */
  record Removed(List<Path> files, List<String> problems) {}

  static Removed remove(Path dataDir) {
    List<Path> targets = new ArrayList<>(List.of(dataDir.resolve(FileStateStore.FILE),
        dataDir.resolve(FileStateStore.BACKUP)));
    Path agents = dataDir.resolve("agents");
    List<String> problems = new ArrayList<>();
    if (Files.isDirectory(agents)) {
      try (Stream<Path> dirs = Files.list(agents)) {
        dirs.filter(Files::isDirectory).sorted()
            .forEach(dir -> targets.add(dir.resolve(AgentDesiredFile.FILE)));
      } catch (IOException e) {
        problems.add("cannot list " + agents + ": " + e.getMessage());
      }
    }
    List<Path> removed = new ArrayList<>();
    for (Path target : targets) {
      try {
        removed.addAll(AtomicFiles.removeStaleTemps(target));
      } catch (IOException e) {
        problems.add("cannot remove temps of " + target + ": " + e.getMessage());
      }
    }
    return new Removed(List.copyOf(removed), List.copyOf(problems));
  }
}
