package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
   * The format-1 fixture (as first shipped) is upgraded on read: nothing held back, format 2 in
   * memory, and written as format 2 on the next save.
   */
  @Test
  void upgradesFormatOneFixture() throws IOException {
    Files.copy(getClass().getResourceAsStream("/launcher_state.v1.json"),
        data.resolve(FileStateStore.FILE));
    FileStateStore store = new FileStateStore(data);
    LauncherState upgraded = store.load().orElseThrow();
    assertEquals(sample(), upgraded);
    assertEquals(2, upgraded.formatVersion());
    assertEquals(null, upgraded.agents().get("web").heldBack());
    assertTrue(store.save(upgraded), "an upgraded file differs on disk and is rewritten");
    assertTrue(Files.readString(store.file()).contains("\"formatVersion\" : 2"));
    assertEquals(sample(), store.load().orElseThrow());
  }

  /** The format-2 fixture pins the current on-disk format. */
  @Test
  void readsFormatTwoFixture() throws IOException {
    Files.copy(getClass().getResourceAsStream("/launcher_state.v2.json"),
        data.resolve(FileStateStore.FILE));
    assertEquals(sampleHoldingBack(), new FileStateStore(data).load().orElseThrow());
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
    assertTrue(e.getMessage().contains("launcher state format 9 is not supported: this launcher reads formats 1 to 2"), e.getMessage());
  }
}
