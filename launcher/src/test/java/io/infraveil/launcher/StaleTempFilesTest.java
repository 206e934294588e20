package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.grpc.HostIdentityFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StaleTempFilesTest {

  @TempDir Path data;

  /**
   * Temps of the launcher's own files (state, identity, desired.json) are removed and logged;
   * the files themselves, an agent's temp and unrelated files are left alone.
   */
  @Test
  void removesTheLauncherTempsLeftByACrashAndLogsEach() throws Exception {
    Files.writeString(data.resolve(FileStateStore.FILE), "{}");
    Path state = Files.writeString(data.resolve(".launcher_state.json.123456.tmp"), "{\"half");
    Path identityDir = Files.createDirectories(data.resolve("identity"));
    Path key = Files.writeString(identityDir.resolve(".host.key.99.tmp"), "-----BEGIN");
    Path agentDir = Files.createDirectories(data.resolve("agents/web"));
    Path desired = Files.writeString(agentDir.resolve(".desired.json.5.tmp"), "{");
    Path agentState = Files.writeString(agentDir.resolve(".agent_state.json.5.tmp"), "{");
    Path unrelated = Files.writeString(data.resolve(".notes.1.tmp"), "x");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LauncherLog log = new LauncherLog(new PrintStream(out, true, StandardCharsets.UTF_8),
        Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC));

    var removed = StaleTempFiles.removeAtStart(data, HostIdentityFiles.inDataDir(data), log);

    assertEquals(Set.of(state, key, desired), Set.copyOf(removed));
    assertFalse(Files.exists(state));
    assertFalse(Files.exists(key));
    assertFalse(Files.exists(desired));
    assertTrue(Files.exists(data.resolve(FileStateStore.FILE)));
    assertTrue(Files.exists(agentState), "the agent cleans its own temps");
    assertTrue(Files.exists(unrelated));
    String text = out.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("ts=2025-01-01T00:00:00Z level=INFO program=launcher action=temp_removed file=" + state
        + " reason=LEFT_BY_INTERRUPTED_WRITE"), text);
    assertEquals(3, text.lines().count(), text);
  }

  @Test
  void emptyDataDirRemovesNothing() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LauncherLog log = new LauncherLog(new PrintStream(out, true, StandardCharsets.UTF_8),
        Clock.systemUTC());
    assertEquals(0, StaleTempFiles.removeAtStart(data, HostIdentityFiles.inDataDir(data), log)
        .size());
    assertEquals("", out.toString(StandardCharsets.UTF_8));
  }
}
