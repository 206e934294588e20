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

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Temps a killed writer left beside a file are removed; the file and others' temps stay. */
  @Test
  void removesStaleTempsOfOneTargetOnly() throws IOException {
    Path target = dir.resolve("launcher_state.json");
    Files.writeString(target, "{}");
    Path stale = dir.resolve(".launcher_state.json.8127361.tmp");
    Path staleToo = dir.resolve(".launcher_state.json.1.tmp");
    Path backupTemp = dir.resolve(".launcher_state.json.prev.77.tmp");
    Path other = dir.resolve(".agent_state.json.5.tmp");
    for (Path p : java.util.List.of(stale, staleToo, backupTemp, other)) {
      Files.writeString(p, "torn");
    }

    java.util.List<Path> removed = AtomicFiles.removeStaleTemps(target);

    assertEquals(java.util.Set.of(stale, staleToo), java.util.Set.copyOf(removed));
    assertFalse(Files.exists(stale));
    assertTrue(Files.exists(backupTemp), "launcher_state.json.prev's temp is another file's");
    assertEquals(java.util.List.of(backupTemp),
        AtomicFiles.removeStaleTemps(dir.resolve("launcher_state.json.prev")));
    assertTrue(Files.exists(other), "another file's temp is not ours");
    assertEquals("{}", Files.readString(target));
    assertEquals(java.util.List.of(), AtomicFiles.removeStaleTemps(dir.resolve("none/x.json")));
  }
}
