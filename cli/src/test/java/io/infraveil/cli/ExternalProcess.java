package io.infraveil.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a program to completion with a timeout; output is stdout and stderr together. */
public final class ExternalProcess {

  private ExternalProcess() {}

  public record Result(List<String> command, int code, String output) {
    @Override
    public String toString() {
      return String.join(" ", command) + "\nexit " + code + "\n" + output;
    }
  }

  public static Result run(List<String> command, Path workDir, Duration timeout)
      throws IOException, InterruptedException {
    Path log = Files.createTempFile("infraveil-test-process", ".log");
    try {
      Process process = new ProcessBuilder(command)
          .directory(workDir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
        throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
            + "\n" + Files.readString(log, StandardCharsets.UTF_8));
      }
      return new Result(command, process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  /** The repository root: the first parent holding mvnw and proto/buf.yaml. */
  public static Path repoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      if (Files.exists(dir.resolve("mvnw")) && Files.exists(dir.resolve("proto/buf.yaml"))) {
        return dir;
      }
      dir = dir.getParent();
    }
    throw new AssertionError("cannot find the repository root above " + Path.of("").toAbsolutePath());
  }
}
