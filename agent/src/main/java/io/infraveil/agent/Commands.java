package io.infraveil.agent;

import io.infraveil.host.process.ProcessGroups;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs a shell command ({@code sh -c}) in its own process group with a timeout; on timeout the
 * whole group is killed, so nothing it forked is left behind.
 */
final class Commands {

  /** How much of a check's stdout is read to look for the expected text. */
  static final int MAX_OUTPUT = 64 * 1024;

  /** What a finished (or timed out) command did. */
  record Result(boolean timedOut, int exitCode, Instant startedAt, Duration took) {
    boolean succeeded() {
      return !timedOut && exitCode == 0;
    }

    String describe(String command) {
      return timedOut ? "'" + command + "' timed out after " + took.toMillis() + " ms"
          : "'" + command + "' exited " + exitCode;
    }
  }

  private Commands() {}

  /**
   * Runs {@code command}, appending its output to the given files. {@code running} is told the
   * process as soon as it exists, so a stop can kill it.
   */
  static Result run(String command, Path workDir, Map<String, String> env, Path stdout,
      Path stderr, Duration timeout, Clock clock, Consumer<Process> running)
      throws IOException {
    return run(command, List.of("sh", "-c", command), workDir, env, stdout, stderr, timeout,
        clock, running);
  }

  /** As above, with the argv that runs {@code command} (in a cgroup, as another account). */
  static Result run(String command, List<String> argv, Path workDir, Map<String, String> env,
      Path stdout, Path stderr, Duration timeout, Clock clock, Consumer<Process> running)
      throws IOException {
    Instant started = clock.instant();
    Process process = ProcessGroups.startInNewSession(argv, workDir, env, stdout, stderr);
    running.accept(process);
    try {
      boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!finished) {
        ProcessGroups.signalGroup(process.pid(), "KILL");
        process.waitFor(5, TimeUnit.SECONDS);
      }
      Duration took = Duration.between(started, clock.instant());
      return new Result(!finished, finished ? process.exitValue() : -1, started, took);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ProcessGroups.signalGroup(process.pid(), "KILL");
      return new Result(true, -1, started, Duration.between(started, clock.instant()));
    } finally {
      running.accept(null);
    }
  }

  /** The first {@link #MAX_OUTPUT} bytes of a file, as text; empty when it does not exist. */
  static String head(Path file) throws IOException {
    if (!Files.exists(file)) {
      return "";
    }
    try (InputStream in = Files.newInputStream(file)) {
      return new String(in.readNBytes(MAX_OUTPUT), StandardCharsets.UTF_8);
    }
  }
}
