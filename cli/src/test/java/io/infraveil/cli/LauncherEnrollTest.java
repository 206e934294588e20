package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code infraveil launcher enroll} as a real process against a real control plane (mTLS):
 * it enrolls and exits 0; run again it says the host is enrolled, exits 0 and leaves every
 * identity file byte-identical; asked for another name it exits 1, changing nothing; then
 * {@code infraveil launcher --config launcher.yaml} only runs, and the host comes online.
 */
class LauncherEnrollTest {

  @TempDir Path dir;

  @Test
  void enrollsOnceChangesNothingWhenRunAgainThenTheLauncherRunsFromItsConfigFile()
      throws Exception {
    try (TestControlPlane controlPlane = new TestControlPlane(dir)) {
      Cli.Result created = Cli.run("ctl", "--context", controlPlane.context.toString(),
          "tokens", "create", "web-1");
      assertEquals(0, created.code(), created::toString);
      String token = created.out().lines().skip(1).findFirst().orElseThrow().strip();
      Path data = dir.resolve("host");
      Path identity = data.resolve("identity");
      Path config = Files.writeString(dir.resolve("launcher.yaml"), """
          # as an install would write it; paths relative to this file
          data-dir: host
          control-plane: localhost:%d
          ca: pki/ca.crt
          metrics-port: 0
          report-interval: 1s
          crash-window: 5m
          """.formatted(controlPlane.port()));

      Path tokenFile = Files.writeString(dir.resolve("join-token"), token + "\n");
      ExternalProcess.Result enrolled = launcher("enroll", "--config", config.toString(),
          "--token-file", tokenFile.toString(), "--name", "web-1", "--labels", "zone=a,tier=web");
      assertEquals(0, enrolled.code(), enrolled::toString);
      assertTrue(enrolled.output().contains("enrolled as web-1 (identity in " + identity),
          enrolled::toString);
      assertTrue(!enrolled.output().contains(token), "the join token is never printed");
      Map<String, byte[]> before = files(identity);
      Map<String, FileTime> modifiedBefore = modified(identity);
      assertTrue(before.keySet().containsAll(List.of("ca.crt", "host.crt", "host.key",
          "host_secret", "host.json")), before::toString);

      ExternalProcess.Result again = launcher("enroll", "--config", config.toString(),
          "--token", token, "--name", "web-1");
      assertEquals(0, again.code(), again::toString);
      assertTrue(again.output().contains("this host is already enrolled as web-1 (identity in "
          + identity), again::toString);
      assertTrue(again.output().contains("nothing changed"), again::toString);
      assertSameFiles(before, files(identity));
      assertEquals(modifiedBefore, modified(identity));

      ExternalProcess.Result other = launcher("enroll", "--config", config.toString(),
          "--token", token, "--name", "web-2");
      assertEquals(1, other.code(), other::toString);
      assertTrue(other.output().contains("already enrolled as web-1"), other::toString);
      assertTrue(other.output().contains("To enroll it as web-2 instead"), other::toString);
      assertSameFiles(before, files(identity));

      Cli.Result hosts = Cli.run("ctl", "--context", controlPlane.context.toString(),
          "hosts", "-o", "json");
      assertEquals(0, hosts.code(), hosts::toString);
      assertTrue(hosts.out().contains("\"web-1\""), hosts::toString);
      assertTrue(hosts.out().contains("\"zone\": \"a\""), "the offered labels were recorded: "
          + hosts.out());
      assertTrue(hosts.out().contains("HOST_CONNECTION_ENROLLED"), hosts::toString);

      // The plain launcher only runs: no token, no name, everything else from the file.
      Path log = dir.resolve("launcher.log");
      Process launcher = new ProcessBuilder(command("--config", config.toString()))
          .directory(dir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String online = null;
        while (System.nanoTime() < deadline && online == null) {
          Cli.Result now = Cli.run("ctl", "--context", controlPlane.context.toString(),
              "hosts", "-o", "json");
          if (now.out().contains("HOST_CONNECTION_ONLINE")) {
            online = now.out();
          } else {
            assertTrue(launcher.isAlive(), () -> "launcher exited: " + read(log));
            Thread.sleep(200);
          }
        }
        assertTrue(online != null, () -> "web-1 never came online; launcher:\n" + read(log));
        String out = read(log);
        assertTrue(out.contains("action=enrollment_skipped reason=IDENTITY_PRESENT"), out);
        assertTrue(out.contains("action=launcher_start host=web-1 control_plane=localhost:"
            + controlPlane.port()), out);
        assertTrue(out.contains("data_dir=" + data), out);
      } finally {
        launcher.destroy();
        assertTrue(launcher.waitFor(30, TimeUnit.SECONDS), "launcher still running after SIGTERM");
      }
      assertSameFiles(before, files(identity));
    }
  }

  // A bad key in launcher.yaml stops enroll before anything is written, naming line and key.
  @Test
  void aMistakeInTheConfigFileNamesItsLineAndWritesNothing() throws Exception {
    Path config = Files.writeString(dir.resolve("launcher.yaml"), """
        data-dir: host
        control_plane: localhost:1
        crash-window: soon
        """);
    // The file named before the subcommand (launcher --config FILE enroll) is read the same.
    ExternalProcess.Result result = launcher("--config", config.toString(), "enroll",
        "--token", "ivj_x", "--name", "web-1", "--ca", "ca.crt");
    assertEquals(2, result.code(), result::toString);
    assertTrue(result.output().contains(config + ":2: control_plane: unknown key; did you mean"
        + " control-plane?"), result::toString);
    assertTrue(result.output().contains(config + ":3: crash-window: \"soon\" is not a duration"),
        result::toString);
    assertTrue(!Files.exists(dir.resolve("host")), "nothing written");
  }

  private ExternalProcess.Result launcher(String... args) throws Exception {
    return ExternalProcess.run(command(args), dir, Duration.ofSeconds(90));
  }

  private static List<String> command(String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "launcher"));
    command.addAll(List.of(args));
    return command;
  }

  private static Map<String, byte[]> files(Path dir) throws IOException {
    Map<String, byte[]> out = new TreeMap<>();
    try (Stream<Path> list = Files.list(dir)) {
      for (Path file : list.toList()) {
        out.put(file.getFileName().toString(), Files.readAllBytes(file));
      }
    }
    return out;
  }

  private static Map<String, FileTime> modified(Path dir) throws IOException {
    Map<String, FileTime> out = new TreeMap<>();
    try (Stream<Path> list = Files.list(dir)) {
      for (Path file : list.toList()) {
        out.put(file.getFileName().toString(), Files.getLastModifiedTime(file));
      }
    }
    return out;
  }

  private static void assertSameFiles(Map<String, byte[]> expected, Map<String, byte[]> actual) {
    assertEquals(expected.keySet(), actual.keySet());
    expected.forEach((name, bytes) -> assertArrayEquals(bytes, actual.get(name), name));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }
}
