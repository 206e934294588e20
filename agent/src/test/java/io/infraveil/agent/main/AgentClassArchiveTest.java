package io.infraveil.agent.main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.jvm.AgentClassArchive;
import io.infraveil.host.jvm.HostJvmOptions;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agents' class-data archive with real JVMs: the training run of the real {@link AgentMain}
 * makes it, an agent started with it loads its classes from it, and a corrupt archive is ignored
 * (the agent starts all the same). The agent runs over a data dir with no identity, so it stops
 * at "enroll the launcher first" after its start: far enough to load its main classes.
 */
class AgentClassArchiveTest {

  private static final Duration TRAINING = Duration.ofMinutes(2);
  private static final String MAIN = AgentMain.class.getName();

  @TempDir static Path jars;
  private static List<String> command;

  @TempDir Path work;

  /** This module's classpath as jars only (the JVM archives no classes from directories). */
  @BeforeAll
  static void agentCommand() throws IOException {
    List<String> classpath = new ArrayList<>();
    int n = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(entry);
      if (Files.isDirectory(path)) {
        if (!path.endsWith("test-classes")) {
          classpath.add(jar(path, jars.resolve("dir-" + n++ + ".jar")).toString());
        }
      } else if (Files.isRegularFile(path)) {
        classpath.add(entry);
      }
    }
    command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString()));
    command.addAll(HostJvmOptions.agent());
    command.addAll(List.of("-cp", String.join(File.pathSeparator, classpath), MAIN));
  }

  @Test
  void anAgentStartedWithTheArchiveLoadsItsClassesFromIt() throws Exception {
    AgentClassArchive archive = AgentClassArchive.of(work.resolve("archive"), command, MAIN)
        .orElseThrow();
    assertFalse(archive.exists());
    assertEquals(command, archive.withArchive(command), "no archive yet: the command as it is");

    assertTrue(archive.make(work.resolve("host"), work.resolve("training.log"), TRAINING),
        () -> "training failed: " + read(work.resolve("training.log")));

    Run run = agent(archive.withArchive(command));
    assertTrue(run.output().contains(MAIN + " source: shared objects file"), run.output());
    assertTrue(run.output().contains("enroll the launcher first"), run.output());
    Run without = agent(command);
    assertTrue(without.output().contains(MAIN + " source: file:"), without.output());
  }

  @Test
  void aCorruptArchiveIsIgnoredAndTheAgentStillStarts() throws Exception {
    AgentClassArchive archive = AgentClassArchive.of(work.resolve("archive"), command, MAIN)
        .orElseThrow();
    Files.createDirectories(archive.file().getParent());
    Files.write(archive.file(), "not a class-data archive".repeat(1000)
        .getBytes(StandardCharsets.UTF_8));
    assertTrue(archive.exists());

    Run run = agent(archive.withArchive(command));

    assertEquals(1, run.exitCode(), run.output()); // the agent's own answer to a missing identity
    assertTrue(run.output().contains(MAIN + " source: file:"), run.output());
    assertTrue(run.output().contains("enroll the launcher first"), run.output());
  }

  @Test
  void aChangedJarMakesAnotherArchiveAndTheOldOneGoes() throws Exception {
    Path dir = work.resolve("archive");
    Path jar = jars.resolve("extra.jar");
    jar(Files.createDirectories(work.resolve("empty")), jar); // only its size and time count
    List<String> withJar = new ArrayList<>(command);
    int cp = withJar.indexOf("-cp") + 1;
    withJar.set(cp, withJar.get(cp) + File.pathSeparator + jar);
    AgentClassArchive first = AgentClassArchive.of(dir, withJar, MAIN).orElseThrow();
    assertTrue(first.make(work.resolve("host"), work.resolve("training.log"), TRAINING));

    Files.setLastModifiedTime(jar, FileTime.fromMillis(
        Files.getLastModifiedTime(jar).toMillis() - 60_000));
    AgentClassArchive second = AgentClassArchive.of(dir, withJar, MAIN).orElseThrow();
    assertNotEquals(first.file(), second.file());
    assertFalse(second.exists());
    assertEquals(withJar, second.withArchive(withJar), "the old archive is not named");
    assertTrue(second.make(work.resolve("host"), work.resolve("training.log"), TRAINING));

    assertFalse(Files.exists(first.file()), "the archive of the old jar is removed");
    assertTrue(second.exists());
  }

  @Test
  void aClasspathWithADirectoryOrAnotherMainClassHasNoArchive() throws IOException {
    List<String> withDir = new ArrayList<>(command);
    int cp = withDir.indexOf("-cp") + 1;
    withDir.set(cp, work + File.pathSeparator + withDir.get(cp));
    assertEquals(Optional.empty(), AgentClassArchive.of(work, withDir, MAIN));
    assertEquals(Optional.empty(), AgentClassArchive.of(work, command, "some.other.Main"));
    assertEquals(Optional.empty(), AgentClassArchive.of(work, List.of("/bin/agent", MAIN), MAIN));
  }

  private record Run(int exitCode, String output) {}

  /** The agent over an empty data dir, with class loading logged to its output. */
  private Run agent(List<String> agentCommand) throws Exception {
    List<String> run = new ArrayList<>(agentCommand);
    run.add(1, "-Xlog:class+load=info");
    run.addAll(List.of("--data-dir", work.resolve("host").toString(), "--deployment", "web"));
    Path out = work.resolve("agent-" + System.nanoTime() + ".out");
    Process process = new ProcessBuilder(run).redirectErrorStream(true)
        .redirectOutput(out.toFile()).start();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "agent did not exit");
    return new Run(process.exitValue(), read(out));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  /** A jar of the class files under {@code dir}. */
  private static Path jar(Path dir, Path jar) throws IOException {
    try (OutputStream file = Files.newOutputStream(jar);
        JarOutputStream out = new JarOutputStream(file);
        Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).filter(p -> !p.equals(jar)).toList()) {
        out.putNextEntry(new JarEntry(dir.relativize(f).toString().replace(File.separatorChar,
            '/')));
        Files.copy(f, out);
        out.closeEntry();
      }
    }
    return jar;
  }
}
