package io.infraveil.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Real Logback, real files: what a program's own log looks like and how it rotates. */
class LoggingTest {

  @TempDir Path dir;

  @AfterEach
  void backToConsole() {
    Logging.configure("test", Map.of(), LogFormat.LOGFMT, new Logging.Console(true));
  }

  /**
   * SLF4J, System.Logger and java.util.logging all end in the same file in the same shape,
   * with the static fields on every line.
   */
  @Test
  void everyLoggingApiWritesTheSameStructuredLines() throws IOException {
    Path file = dir.resolve("agent.log");
    Logging.configure("agent", Map.of("deployment", "web"), LogFormat.LOGFMT,
        new Logging.RollingFile(file, 1024 * 1024, 3));

    LoggerFactory.getLogger("io.infraveil.agent.Supervisor").atInfo()
        .addKeyValue("service", "api").log("ROLLED_BACK api");
    System.getLogger("io.infraveil.agent.main.Agent").log(System.Logger.Level.WARNING,
        "payload unavailable");
    java.util.logging.Logger.getLogger("io.grpc.internal.Something")
        .severe("channel broken");
    java.util.logging.Logger.getLogger("io.grpc.internal.Something").info("quiet: below WARN");
    System.getLogger("io.infraveil.agent.ServiceRunner").log(System.Logger.Level.DEBUG, "hidden");

    List<String> lines = Files.readAllLines(file);
    assertEquals(3, lines.size(), String.join("\n", lines));
    assertTrue(lines.get(0).matches("ts=\\S+Z level=INFO program=agent deployment=web"
        + " logger=Supervisor msg=\"ROLLED_BACK api\" service=api"), lines.get(0));
    assertTrue(lines.get(1).endsWith(" level=WARN program=agent deployment=web logger=Agent"
        + " msg=\"payload unavailable\""), lines.get(1));
    assertTrue(lines.get(2).endsWith(" level=ERROR program=agent deployment=web"
        + " logger=Something msg=\"channel broken\""), lines.get(2));
  }

  /** An exception stays on its line: message in error=, the trace escaped in stack=. */
  @Test
  void exceptionsStayOnOneJsonLine() throws IOException {
    Path file = dir.resolve("cp.log");
    Logging.configure("controlplane", Map.of(), LogFormat.JSON,
        new Logging.RollingFile(file, 1024 * 1024, 1));

    LoggerFactory.getLogger("x.Store").error("write failed", new IOException("disk full"));

    List<String> lines = Files.readAllLines(file);
    assertEquals(1, lines.size());
    String line = lines.get(0);
    assertTrue(line.startsWith("{\"ts\":\""), line);
    assertTrue(line.contains("\"level\":\"ERROR\",\"program\":\"controlplane\",\"logger\":\"Store\","
        + "\"msg\":\"write failed\",\"error\":\"java.io.IOException: disk full\",\"stack\":\""),
        line);
    assertTrue(line.contains("\\n\\tat io.infraveil.logging.LoggingTest"), line);
  }

  /**
   * Rotation by size: the live file stays within the limit plus one line, at most {@code keep}
   * rotated files remain, and the newest lines are in the live file.
   */
  @Test
  void ownLogRotatesBySizeAndKeepsTheNewestFiles() throws IOException {
    Path file = dir.resolve("agent.log");
    Logging.configure("agent", Map.of(), LogFormat.LOGFMT,
        new Logging.RollingFile(file, 4096, 2));
    org.slf4j.Logger log = LoggerFactory.getLogger("io.infraveil.agent.Supervisor");
    for (int i = 0; i < 500; i++) {
      log.info("line {} {}", i, "x".repeat(40));
    }

    long longest = 200;
    assertTrue(Files.size(file) <= 4096 + longest, "live file " + Files.size(file));
    assertTrue(Files.size(dir.resolve("agent.log.1")) <= 4096 + longest);
    assertTrue(Files.exists(dir.resolve("agent.log.2")));
    assertFalse(Files.exists(dir.resolve("agent.log.3")), "only two rotated files are kept");
    List<String> live = Files.readAllLines(file);
    assertTrue(live.get(live.size() - 1).contains("msg=\"line 499 "), live.get(live.size() - 1));
    String previous = Files.readString(dir.resolve("agent.log.1"));
    assertFalse(previous.contains("line 499 "));
  }

  @Test
  void refusesUnusableRotationSettings() {
    IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
        () -> new Logging.RollingFile(dir.resolve("x.log"), 10, 3));
    assertEquals("log file limit must be at least 1024 bytes, got 10", small.getMessage());
    IllegalArgumentException keep = assertThrows(IllegalArgumentException.class,
        () -> new Logging.RollingFile(dir.resolve("x.log"), 4096, 0));
    assertEquals("rotated log files to keep must be 1 to 20, got 0", keep.getMessage());
  }
}
