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

  /** The format-1 fixture (as first shipped) still reads; pins the on-disk format. */
  @Test
  void readsFormatOneFixture() throws IOException {
    Files.copy(getClass().getResourceAsStream("/launcher_state.v1.json"),
        data.resolve(FileStateStore.FILE));
    assertEquals(sample(), new FileStateStore(data).load().orElseThrow());
  }

  @Test
  void refusesUnknownFormatNamingIt() throws IOException {
    Files.writeString(data.resolve(FileStateStore.FILE),
        "{\"formatVersion\": 9, \"desired\": null, \"agents\": {}}");
    IOException e = assertThrows(IOException.class, () -> new FileStateStore(data).load());
    assertTrue(e.getMessage().contains("launcher state format 9 is not supported"), e.getMessage());
  }
}
