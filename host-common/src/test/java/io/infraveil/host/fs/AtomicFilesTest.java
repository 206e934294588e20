package io.infraveil.host.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

  @TempDir Path dir;

  @Test
  void writesContentAndLeavesNoTempFile() throws IOException {
    Path target = dir.resolve("state.json");
    AtomicFiles.write(target, bytes("one"));
    AtomicFiles.write(target, bytes("two"));
    assertEquals("two", Files.readString(target));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.count());
    }
  }

  /** A failed temp write (here: the temp name is too long for the file system) keeps the old file. */
  @Test
  void failedTempWriteLeavesOldContent() throws IOException {
    Path target = dir.resolve("s".repeat(250));
    Files.writeString(target, "old");
    assertThrows(IOException.class, () -> AtomicFiles.write(target, bytes("new")));
    assertEquals("old", Files.readString(target));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.count());
    }
  }

  /** A failed rename (target is a non-empty directory) deletes the temp file. */
  @Test
  void failedRenameRemovesTempFile() throws IOException {
    Path target = dir.resolve("taken");
    Files.createDirectories(target.resolve("inside"));
    assertThrows(IOException.class, () -> AtomicFiles.write(target, bytes("new")));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.count());
    }
  }

  @Test
  void writeIfChangedSkipsIdenticalContent() throws IOException {
    Path target = dir.resolve("state.json");
    assertTrue(AtomicFiles.writeIfChanged(target, bytes("same")));
    FileTime before = FileTime.fromMillis(1_000_000);
    Files.setLastModifiedTime(target, before);
    assertFalse(AtomicFiles.writeIfChanged(target, bytes("same")));
    assertEquals(before, Files.getLastModifiedTime(target));
    assertTrue(AtomicFiles.writeIfChanged(target, bytes("other")));
    assertEquals("other", Files.readString(target));
  }

  @Test
  void createsFileWithRequestedPermissions() throws IOException {
    Path target = dir.resolve("secret");
    AtomicFiles.write(target, new byte[] {1, 2, 3}, PosixFilePermissions.fromString("rw-------"));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
  }

  /**
   * A crash between the temp write and the rename leaves a temp file; at start the owner
   * removes the temps of its own targets only (another process may be writing its own).
   */
  @Test
  void removeStaleTempsRemovesOnlyTheTempsOfTheNamedTargets() throws IOException {
    Path target = dir.resolve("state.json");
    AtomicFiles.write(target, bytes("whole"));
    Path ours = Files.write(dir.resolve(".state.json.4711.tmp"), bytes("{\"half"));
    Path oursOldStyle = Files.write(dir.resolve(".state.json99.tmp"), bytes("{"));
    Path otherTarget = Files.write(dir.resolve(".agent_state.json.4711.tmp"), bytes("{"));
    Path notATemp = Files.write(dir.resolve(".state.json.backup.tmp"), bytes("keep"));
    Files.createDirectory(dir.resolve(".state.json.1.tmp"));

    List<Path> removed = AtomicFiles.removeStaleTemps(dir, List.of("state.json"));

    assertEquals(Set.of(ours, oursOldStyle), Set.copyOf(removed));
    assertFalse(Files.exists(ours));
    assertFalse(Files.exists(oursOldStyle));
    assertTrue(Files.exists(otherTarget), "another owner's temp file is left alone");
    assertTrue(Files.exists(notATemp));
    assertTrue(Files.isDirectory(dir.resolve(".state.json.1.tmp")));
    assertEquals("whole", Files.readString(target));
    assertEquals(List.of(), AtomicFiles.removeStaleTemps(dir.resolve("absent"), List.of("x")));
  }

  /** The temp names this class writes are exactly what the clean-up matches. */
  @Test
  void tempNamesOfWritesAreRecognised() throws IOException {
    Path target = dir.resolve("t.json");
    Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
    assertTrue(AtomicFiles.isTempOf(temp.getFileName().toString(), List.of("t.json")));
    assertFalse(AtomicFiles.isTempOf(".t.json..tmp", List.of("t.json")));
    assertFalse(AtomicFiles.isTempOf("t.json.1.tmp", List.of("t.json")));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
