package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.process.ProcessIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileStateStoreTest extends StateStoreContract {

  @TempDir Path data;

  @Override
  StateStore store() {
    return new FileStateStore(data);
  }

  /** A crash between temp write and rename leaves a stray temp file; the old state still reads. */
  @Test
  void strayTempFileFromCrashLeavesPreviousStateReadable() throws IOException {
    FileStateStore store = new FileStateStore(data);
    store.save(sample());
    Files.write(data.resolve(".launcher_state.json.123456.tmp"), new byte[] {'{', 0, 0x7f, '"'});
    assertEquals(sample(), new FileStateStore(data).load().orElseThrow());
  }

  @Test
  void unchangedStateLeavesFileUntouched() throws IOException {
    FileStateStore store = new FileStateStore(data);
    store.save(sample());
    FileTime old = FileTime.fromMillis(1_000_000);
    Files.setLastModifiedTime(store.file(), old);
    store.save(sample());
    assertEquals(old, Files.getLastModifiedTime(store.file()));
  }

  /**
   * The format-1 fixture (as first shipped) is upgraded on read: nothing held back, start ticks
   * unknown, format 3 in memory, and written as format 3 on the next save.
   */
  @Test
  void upgradesFormatOneFixture() throws IOException {
    Files.copy(getClass().getResourceAsStream("/launcher_state.v1.json"),
        data.resolve(FileStateStore.FILE));
    FileStateStore store = new FileStateStore(data);
    LauncherState upgraded = store.load().orElseThrow();
    assertEquals(sample(), upgraded);
    assertEquals(3, upgraded.formatVersion());
    assertEquals(null, upgraded.agents().get("web").heldBack());
    assertEquals(ProcessIdentity.UNKNOWN_TICKS,
        upgraded.agents().get("web").process().startTicks());
    assertTrue(store.save(upgraded), "an upgraded file differs on disk and is rewritten");
    assertTrue(Files.readString(store.file()).contains("\"formatVersion\" : 3"));
    assertTrue(Files.readString(store.file()).contains("\"startTicks\" : 0"));
    assertEquals(sample(), store.load().orElseThrow());
  }

  /** The format-2 fixture reads as format 3 with the start ticks unknown. */
  @Test
  void upgradesFormatTwoFixture() throws IOException {
    Files.copy(getClass().getResourceAsStream("/launcher_state.v2.json"),
        data.resolve(FileStateStore.FILE));
    LauncherState upgraded = new FileStateStore(data).load().orElseThrow();
    assertEquals(sampleHoldingBack(), upgraded);
    assertEquals(3, upgraded.formatVersion());
  }

  /** The format-3 fixture pins the current on-disk format: the ticks are kept as saved. */
  @Test
  void readsFormatThreeFixture() throws IOException {
    Files.copy(getClass().getResourceAsStream("/launcher_state.v3.json"),
        data.resolve(FileStateStore.FILE));
    LauncherState read = new FileStateStore(data).load().orElseThrow();
    AgentRecord web = sampleHoldingBack().agents().get("web");
    assertEquals(sampleHoldingBack().withAgent(web.withProcessIdentity(
        new ProcessIdentity(4242, web.process().startedAt(), 987654))), read);
  }

  /**
   * An agent recorded by a format-2 launcher that is still running (here: this JVM) gets its
   * start ticks on read, so a later clock step cannot make it look gone.
   */
  @Test
  void formatTwoLiveAgentGetsItsStartTicks() throws IOException {
    ProcessIdentity self = ProcessIdentity.ofPid(ProcessHandle.current().pid()).orElseThrow();
    String v2 = new String(getClass().getResourceAsStream("/launcher_state.v2.json")
        .readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
        .replace("\"pid\" : 4242", "\"pid\" : " + self.pid())
        .replace("2025-01-01T00:00:00.120Z", self.startedAt().toString());
    Files.writeString(data.resolve(FileStateStore.FILE), v2);
    assertEquals(self, new FileStateStore(data).load().orElseThrow()
        .agents().get("web").process());
  }

  /**
   * A crash after the temp file was written and fsynced but before the rename: the previous
   * state reads back whole, and the next save replaces it normally.
   */
  @Test
  void crashBeforeRenameLeavesPreviousStateReadable() throws IOException {
    FileStateStore store = new FileStateStore(data);
    store.save(sample());
    byte[] next = io.infraveil.host.fs.JsonFiles.mapper().writeValueAsBytes(sampleHoldingBack());
    Files.write(data.resolve(".launcher_state.json.987654.tmp"), next); // complete, never renamed
    assertEquals(sample(), new FileStateStore(data).load().orElseThrow());
    assertTrue(new FileStateStore(data).save(sampleHoldingBack()));
    assertEquals(sampleHoldingBack(), new FileStateStore(data).load().orElseThrow());
  }

  @Test
  void refusesUnknownFormatNamingIt() throws IOException {
    Files.writeString(data.resolve(FileStateStore.FILE),
        "{\"formatVersion\": 9, \"desired\": null, \"agents\": {}}");
    IOException e = assertThrows(IOException.class, () -> new FileStateStore(data).load());
    assertTrue(e.getMessage().contains("launcher state format 9 is not supported: this launcher reads formats 1 to 3"), e.getMessage());
  }
}
