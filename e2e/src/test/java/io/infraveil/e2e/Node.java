package io.infraveil.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * One process a test started (a control plane, a launcher, {@code infraveil dev}): its command,
 * and stdout and stderr together in one log file that survives the process.
 */
public final class Node {

  private final String name;
  private final List<String> command;
  private final Path log;
  private final long logOffset;
  private final Process process;

  private Node(String name, List<String> command, Path log, long logOffset, Process process) {
    this.name = name;
    this.command = List.copyOf(command);
    this.log = log;
    this.logOffset = logOffset;
    this.process = process;
  }

  /** Starts {@code command} in {@code workDir}, appending its output to {@code log}. */
  static Node start(String name, List<String> command, Path workDir, Path log) throws IOException {
    Objects.requireNonNull(name, "name");
    Files.createDirectories(log.getParent());
    Files.createDirectories(workDir);
    // A restarted process appends to the same log: remember where this one's output begins.
    long offset = Files.exists(log) ? Files.size(log) : 0;
    Files.writeString(log, "### " + String.join(" ", command)
        .replace(System.getProperty("java.class.path"), "<classpath>") + "\n", StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    Process process = new ProcessBuilder(command)
        .directory(workDir.toFile())
        .redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    return new Node(name, command, log, offset, process);
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Process process() {
    return process;
  }

  public List<String> command() {
    return command;
  }

  public Path logFile() {
    return log;
  }

  /** What this process printed so far (not the output of earlier runs in the same log). */
  public String output() {
    try {
      byte[] all = Files.readAllBytes(log);
      return new String(all, (int) Math.min(logOffset, all.length),
          (int) Math.max(0, all.length - logOffset), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /** Everything the log file holds, earlier runs included. */
  public String log() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /** SIGKILL, and wait until it is gone. */
  public void kill9() {
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(10));
  }

  /** SIGTERM, then up to {@code grace} for the process to exit; true when it did. */
  public boolean terminate(Duration grace) {
    process.destroy();
    return awaitExit(grace);
  }

  /** Waits up to {@code timeout} for the process to exit; true when it did. */
  public boolean awaitExit(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + pid() + (isAlive() ? "" : ", exited " + process.exitValue()) + ")";
  }
}
