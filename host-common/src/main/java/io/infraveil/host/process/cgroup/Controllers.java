package io.infraveil.host.process.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Turns on cgroup v2 controllers along a path, so limits can be set at its end. */
final class Controllers {

  private static final Set<String> WANTED = Set.of("memory", "cpu", "pids");

  private Controllers() {}

  /**
   * Writes {@code +memory +cpu +pids} (those each directory offers) into the
   * {@code cgroup.subtree_control} of {@code from} and of every directory down to and including
   * {@code to}. A failure only means limits are unavailable; tracking still works.
   */
  static void enableBelow(Path from, Path to) {
    List<Path> chain = new ArrayList<>();
    for (Path p = to; p != null && p.startsWith(from); p = p.getParent()) {
      chain.add(0, p);
    }
    for (Path dir : chain) {
      try {
        String offered = Files.readString(dir.resolve("cgroup.controllers")).trim();
        StringBuilder enable = new StringBuilder();
        for (String c : offered.split("\\s+")) {
          if (WANTED.contains(c)) {
            enable.append(enable.isEmpty() ? "" : " ").append('+').append(c);
          }
        }
        if (!enable.isEmpty()) {
          Files.writeString(dir.resolve("cgroup.subtree_control"), enable);
        }
      } catch (IOException | RuntimeException e) {
        return; // limits will report themselves as not enforced
      }
    }
  }
}
