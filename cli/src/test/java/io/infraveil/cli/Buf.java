package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The buf CLI, installed by scripts/install-buf.sh. Missing npm fails the test, loudly. */
final class Buf {

  private Buf() {}

  static Path install() throws Exception {
    Path root = ExternalProcess.repoRoot();
    if (!onPath("npm") && !Files.isExecutable(root.resolve(".tools/node_modules/.bin/buf"))) {
      fail("npm is not installed: install Node.js and npm (https://nodejs.org) so "
          + "scripts/install-buf.sh can install buf for the contract tests");
    }
    ExternalProcess.Result result = ExternalProcess.run(
        List.of("bash", root.resolve("scripts/install-buf.sh").toString()), root, Duration.ofMinutes(5));
    assertEquals(0, result.code(), () -> "scripts/install-buf.sh failed:\n" + result);
    String[] lines = result.output().strip().split("\n");
    Path buf = Path.of(lines[lines.length - 1].strip());
    if (!Files.isExecutable(buf)) {
      fail("scripts/install-buf.sh did not print an executable buf path:\n" + result);
    }
    return buf;
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }
}
