package io.infraveil.host.jvm;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The class-data archive (AppCDS, dynamic) of the agents a launcher spawns: every deploy starts
 * an agent JVM, and most of its start is loading and verifying the same classes again. The
 * archive is made once per agent command (JDK, JVM options, classpath with each jar's size and
 * modification time) by a training run of the agent ({@value #TRAINING_OPTION}: it loads what an
 * agent's start loads and exits, and the JVM writes what it loaded at exit), kept as
 * {@code agent-<fingerprint>.jsa} in the launcher's archive dir, and named to agents only once
 * it is whole. Another JDK or another jar makes another fingerprint; the JVM checks the archive
 * against its base archive and the classpath again, and with {@code -Xshare:auto} (the default)
 * a missing, stale or broken archive only costs the speed: the agent starts all the same.
 *
 * <p>Only for a command whose classpath is jars alone: the JVM refuses to archive with a
 * non-empty directory on the classpath.
 */
public final class AgentClassArchive {

  /** The agent's hidden option for the training run. */
  public static final String TRAINING_OPTION = "--class-archive-training";
  private static final String PREFIX = "agent-";
  private static final String SUFFIX = ".jsa";

  private final Path dir;
  /** The agent command up to and including its main class. */
  private final List<String> command;
  private final Path archive;

  private AgentClassArchive(Path dir, List<String> command, String fingerprint) {
    this.dir = dir;
    this.command = List.copyOf(command);
    this.archive = dir.resolve(PREFIX + fingerprint.substring(0, 24) + SUFFIX);
  }

  /**
   * The archive of {@code agentCommand} ({@code java OPTIONS -cp CLASSPATH MAIN_CLASS ...}) in
   * {@code dir}; empty when the command is not that shape, names {@code mainClass} nowhere, or
   * has a directory or a missing file on its classpath.
   */
  public static Optional<AgentClassArchive> of(Path dir, List<String> agentCommand,
      String mainClass) throws IOException {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(mainClass, "mainClass");
    int main = agentCommand.indexOf(mainClass);
    int cp = Math.max(agentCommand.indexOf("-cp"), agentCommand.indexOf("-classpath"));
    if (main < 0 || cp < 1 || cp + 1 >= main) {
      return Optional.empty();
    }
    MessageDigest digest = sha256();
    List<String> head = agentCommand.subList(0, main + 1);
    for (String part : head) {
      update(digest, part);
    }
    Path java = Path.of(agentCommand.get(0));
    stamp(digest, java);
    stamp(digest, Path.of(System.getProperty("java.home"), "lib", "modules"));
    update(digest, Runtime.version().toString());
    for (String entry : agentCommand.get(cp + 1).split(File.pathSeparator)) {
      Path jar = Path.of(entry);
      if (entry.isEmpty() || !Files.isRegularFile(jar)) {
        return Optional.empty();
      }
      stamp(digest, jar);
    }
    return Optional.of(new AgentClassArchive(dir, head,
        HexFormat.of().formatHex(digest.digest())));
  }

  /** Where the archive of this command is (or will be). */
  public Path file() {
    return archive;
  }

  /** Whether the archive of this command exists (made whole by {@link #make}). */
  public boolean exists() {
    return Files.isRegularFile(archive);
  }

  /**
   * {@code command} with the JVM options that map the archive, after the java executable, when
   * the archive exists; else {@code command} as it is. A broken archive is ignored by the JVM.
   */
  public List<String> withArchive(List<String> command) {
    if (!exists()) {
      return command;
    }
    List<String> out = new ArrayList<>(command);
    // -Xshare:auto: a broken or stale archive is skipped with a warning, never a failed start.
    out.addAll(1, List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto"));
    return List.copyOf(out);
  }

  /**
   * Makes the archive when it does not exist: runs the training agent with
   * {@code -XX:ArchiveClassesAtExit} on a temp file (its output in {@code log}) and renames it
   * into place when the run exited 0 within {@code timeout}; removes the archives of other
   * commands. Returns whether the archive exists afterwards.
   */
  public boolean make(Path scratchDataDir, Path log, Duration timeout)
      throws IOException, InterruptedException {
    if (exists()) {
      return true;
    }
    Files.createDirectories(dir);
    Path temp = dir.resolve(archive.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
    List<String> training = new ArrayList<>(command);
    training.add(1, "-XX:ArchiveClassesAtExit=" + temp);
    training.addAll(List.of("--data-dir", scratchDataDir.toString(), "--deployment",
        "class-archive-training", TRAINING_OPTION));
    Process process = new ProcessBuilder(training).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    try {
      boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!exited || process.exitValue() != 0 || !Files.isRegularFile(temp)
          || Files.size(temp) == 0) {
        return false;
      }
      Files.move(temp, archive, StandardCopyOption.ATOMIC_MOVE);
      removeOthers();
      return true;
    } finally {
      process.destroyForcibly();
      Files.deleteIfExists(temp);
    }
  }

  /** Archives of earlier JDKs or jars, and temp files of interrupted runs. */
  private void removeOthers() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.toList()) {
        String name = file.getFileName().toString();
        if (name.startsWith(PREFIX) && !file.equals(archive)
            && (name.endsWith(SUFFIX) || name.endsWith(".tmp"))) {
          Files.deleteIfExists(file);
        }
      }
    }
  }

  private static void stamp(MessageDigest digest, Path file) throws IOException {
    if (Files.exists(file)) {
      update(digest, file.toAbsolutePath() + "|" + Files.size(file) + "|"
          + Files.getLastModifiedTime(file).toMillis());
    } else {
      update(digest, file + "|absent");
    }
  }

  private static void update(MessageDigest digest, String part) {
    digest.update(part.getBytes(StandardCharsets.UTF_8));
    digest.update((byte) 0);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
