package io.infraveil.payload.archive;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PayloadArchiveTest {

  @TempDir
  Path temp;

  private Path appDir() throws IOException {
    Path app = Files.createDirectories(temp.resolve("app"));
    Files.writeString(app.resolve("config.yaml"), "services: {}\n");
    Files.createDirectories(app.resolve("bin"));
    Files.writeString(app.resolve("bin/run.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(app.resolve("bin/run.sh"),
        PosixFilePermissions.fromString("rwxr-x---"));
    Files.createDirectories(app.resolve("lib"));
    Files.writeString(app.resolve("lib/data.txt"), "data");
    Files.createSymbolicLink(app.resolve("bin/data"), Path.of("../lib/data.txt"));
    return app;
  }

  private static byte[] pack(Path dir) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PayloadArchive.pack(dir, out);
    return out.toByteArray();
  }

  @Test
  void packExtractRoundTripKeepsContentExecBitsAndLinks() throws Exception {
    Path out = temp.resolve("out");

    PayloadArchive.extract(new ByteArrayInputStream(pack(appDir())), out);

    assertEquals("services: {}\n", Files.readString(out.resolve("config.yaml")));
    assertEquals("rwxr-xr-x",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("bin/run.sh"))));
    assertEquals("rw-r--r--",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("lib/data.txt"))));
    assertEquals(Path.of("../lib/data.txt"), Files.readSymbolicLink(out.resolve("bin/data")));
    assertEquals("data", Files.readString(out.resolve("bin/data")));
  }

  // The payload's sha256 identifies a version, so packing the same tree must give the same bytes.
  @Test
  void packIsDeterministicAcrossMtimes() throws Exception {
    Path app = appDir();
    byte[] first = pack(app);
    Files.setLastModifiedTime(app.resolve("lib/data.txt"), FileTime.fromMillis(123_456_789));

    assertArrayEquals(first, pack(app));
  }

  @Test
  void packWritesSortedEntriesWithoutOwnersOrTimes() throws Exception {
    List<String> names = new ArrayList<>();
    try (TarArchiveInputStream tar = PayloadArchive.open(new ByteArrayInputStream(pack(appDir())))) {
      for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
        names.add(e.getName());
        assertEquals(0, e.getModTime().getTime(), e.getName());
        assertEquals("", e.getUserName(), e.getName());
        assertEquals("", e.getGroupName(), e.getName());
        assertEquals(0, e.getLongUserId(), e.getName());
      }
    }
    assertEquals(List.of("bin/", "bin/data", "bin/run.sh", "config.yaml", "lib/", "lib/data.txt"),
        names);
  }

  @Test
  void packRefusesSymlinkPointingOutside() throws Exception {
    Path app = appDir();
    Files.createSymbolicLink(app.resolve("escape"), Path.of("../../etc/passwd"));

    InvalidArchiveException e = assertThrows(InvalidArchiveException.class, () -> pack(app));

    assertTrue(e.getMessage().contains("symlink 'escape' -> '../../etc/passwd' points outside"),
        e.getMessage());
  }

  @Test
  void packRefusesAbsoluteSymlink() throws Exception {
    Path app = appDir();
    Files.createSymbolicLink(app.resolve("lib/abs"), app.resolve("config.yaml"));

    InvalidArchiveException e = assertThrows(InvalidArchiveException.class, () -> pack(app));

    assertTrue(e.getMessage().contains("is absolute"), e.getMessage());
  }

  @Test
  void checkReturnsRootConfig() throws Exception {
    assertEquals("services: {}\n",
        new String(PayloadArchive.check(new ByteArrayInputStream(pack(appDir())), ExtractionLimits.DEFAULT), UTF_8));
  }

  @Test
  void checkAcceptsDotSlashPrefix() throws Exception {
    byte[] archive = tarGz(tar -> file(tar, "./config.yaml", "a: 1\n"));

    assertEquals("a: 1\n",
        new String(PayloadArchive.check(new ByteArrayInputStream(archive), ExtractionLimits.DEFAULT), UTF_8));
  }

  @Test
  void checkRejectsPayloadWithoutRootConfig() throws Exception {
    byte[] archive = tarGz(tar -> file(tar, "sub/config.yaml", "a: 1\n"));

    InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.check(new ByteArrayInputStream(archive), ExtractionLimits.DEFAULT));

    assertTrue(e.getMessage().startsWith("payload has no config.yaml at its root"), e.getMessage());
  }

  @Test
  void checkRejectsConfigAbove1MiB() throws Exception {
    byte[] archive = tarGz(tar -> file(tar, "config.yaml", "#".repeat((1 << 20) + 1)));

    InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.check(new ByteArrayInputStream(archive), ExtractionLimits.DEFAULT));

    assertTrue(e.getMessage().contains("config.yaml is 1048577 bytes; the limit is 1048576"),
        e.getMessage());
  }

  // Two entries would let the control plane read one config and the host extract another.
  @Test
  void checkRejectsSecondConfig() throws Exception {
    byte[] archive = tarGz(tar -> {
      file(tar, "config.yaml", "a: 1\n");
      file(tar, "./config.yaml", "a: 2\n");
    });

    InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.check(new ByteArrayInputStream(archive), ExtractionLimits.DEFAULT));

    assertEquals("archive entry 'config.yaml' appears more than once (or collides with a link);"
        + " each path may appear once", e.getMessage());
  }

  @Test
  void checkRejectsNonGzipInput() {
    InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.check(new ByteArrayInputStream("not gzip".getBytes(UTF_8)), ExtractionLimits.DEFAULT));

    assertTrue(e.getMessage().startsWith("payload is not a gzip stream"), e.getMessage());
  }

  @Test
  void extractRejectsDotDotEntry() throws Exception {
    byte[] archive = tarGz(tar -> {
      file(tar, "ok.txt", "fine");
      file(tar, "../evil", "x");
    });

    assertRejected(archive, "archive entry '../evil' contains '..'");
    assertFalse(Files.exists(temp.resolve("evil")));
  }

  @Test
  void extractRejectsAbsolutePath() throws Exception {
    Path outside = temp.resolve("abs-evil");
    byte[] archive = tarGz(tar -> {
      TarArchiveEntry entry = new TarArchiveEntry(outside.toString(), true);
      entry.setSize(1);
      tar.putArchiveEntry(entry);
      tar.write('x');
      tar.closeArchiveEntry();
    });

    assertRejected(archive, "has an absolute path");
    assertFalse(Files.exists(outside));
  }

  @Test
  void extractRejectsSymlinkEscapingTarget() throws Exception {
    byte[] archive = tarGz(tar -> symlink(tar, "lib/escape", "../../outside"));

    assertRejected(archive, "symlink 'lib/escape' -> '../../outside' points outside");
  }

  @Test
  void extractRejectsAbsoluteSymlink() throws Exception {
    byte[] archive = tarGz(tar -> symlink(tar, "passwd", "/etc/passwd"));

    assertRejected(archive, "is absolute");
  }

  // "d -> ." is harmless alone, but "e -> d/../.." would resolve to the target's parent.
  @Test
  void extractRejectsSymlinkChainClimbingOut() throws Exception {
    byte[] archive = tarGz(tar -> {
      symlink(tar, "d", ".");
      symlink(tar, "e", "d/../..");
    });

    assertRejected(archive, "has '..' after a directory name");
  }

  // Even a link that stays inside is never written through: its target could change meaning.
  @Test
  void extractRefusesToWriteThroughAPlantedSymlink() throws Exception {
    byte[] archive = tarGz(tar -> {
      symlink(tar, "sub", "inner");
      dir(tar, "inner/");
      file(tar, "sub/x", "through the link");
    });

    assertRejected(archive, "lies under 'sub', which is not a directory");
  }

  @Test
  void extractRejectsHardLinkToOutside() throws Exception {
    byte[] archive = tarGz(tar -> {
      TarArchiveEntry link = new TarArchiveEntry("hard", TarConstants.LF_LINK);
      link.setLinkName("../../etc/passwd");
      tar.putArchiveEntry(link);
      tar.closeArchiveEntry();
    });

    assertRejected(archive, "contains '..'");
  }

  @Test
  void extractAcceptsHardLinkToExtractedFile() throws Exception {
    byte[] archive = tarGz(tar -> {
      file(tar, "a.txt", "same");
      TarArchiveEntry link = new TarArchiveEntry("b.txt", TarConstants.LF_LINK);
      link.setLinkName("a.txt");
      tar.putArchiveEntry(link);
      tar.closeArchiveEntry();
    });
    Path out = temp.resolve("out");

    PayloadArchive.extract(new ByteArrayInputStream(archive), out);

    assertEquals("same", Files.readString(out.resolve("b.txt")));
  }

  @Test
  void extractRejectsDeviceFile() throws Exception {
    byte[] archive = tarGz(tar -> {
      TarArchiveEntry device = new TarArchiveEntry("dev/sda", TarConstants.LF_BLK);
      tar.putArchiveEntry(device);
      tar.closeArchiveEntry();
    });

    assertRejected(archive, "archive entry 'dev/sda' is a device or fifo");
  }

  @Test
  void extractRejectsDuplicateFile() throws Exception {
    byte[] archive = tarGz(tar -> {
      file(tar, "a.txt", "one");
      file(tar, "./a.txt", "two");
    });

    assertRejected(archive, "archive entry 'a.txt' appears more than once");
  }

  @Test
  void extractRejectsArchiveExpandingBeyondByteLimit() throws Exception {
    byte[] archive = tarGz(tar -> {
      file(tar, "a.bin", "x".repeat(600));
      file(tar, "b.bin", "x".repeat(600));
    });
    Path out = temp.resolve("out");

    InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.extract(new ByteArrayInputStream(archive), out,
            new ExtractionLimits(1000, 10)));

    assertEquals("archive expands to more than 1000 bytes (limit reached in 'b.bin')",
        e.getMessage());
    assertFalse(Files.exists(out), "a rejected extraction leaves nothing behind");
  }

  @Test
  void extractRejectsArchiveBeyondEntryLimit() throws Exception {
    byte[] archive = tarGz(tar -> {
      for (int i = 0; i < 4; i++) {
        file(tar, "f" + i, "x");
      }
    });

    InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.extract(new ByteArrayInputStream(archive), temp.resolve("out"),
            new ExtractionLimits(1000, 3)));

    assertTrue(e.getMessage().contains("more than 3 entries"), e.getMessage());
  }

  @Test
  void extractRefusesNonEmptyTarget() throws Exception {
    Path out = Files.createDirectories(temp.resolve("out"));
    Files.writeString(out.resolve("keep.txt"), "mine");

    IOException e = assertThrows(IOException.class,
        () -> PayloadArchive.extract(new ByteArrayInputStream(pack(appDir())), out));

    assertTrue(e.getMessage().contains("is not empty"), e.getMessage());
    assertEquals("mine", Files.readString(out.resolve("keep.txt")));
  }

  @Test
  void extractIntoExistingEmptyDirectoryKeepsItOnFailure() throws Exception {
    Path out = Files.createDirectories(temp.resolve("out"));
    byte[] archive = tarGz(tar -> {
      file(tar, "ok.txt", "fine");
      file(tar, "../evil", "x");
    });

    assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.extract(new ByteArrayInputStream(archive), out));

    assertTrue(Files.isDirectory(out, LinkOption.NOFOLLOW_LINKS));
    try (Stream<Path> files = Files.list(out)) {
      assertEquals(0, files.count(), "partial output is removed");
    }
  }

  /** Extraction refuses the archive, and the upload check refuses it with the same message. */
  private void assertRejected(byte[] archive, String message) {
    Path out = temp.resolve("out");
    InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.extract(new ByteArrayInputStream(archive), out));
    assertTrue(e.getMessage().contains(message), e.getMessage());
    assertFalse(Files.exists(out, LinkOption.NOFOLLOW_LINKS),
        "a rejected extraction leaves nothing behind");
    InvalidArchiveException checked = assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.check(new ByteArrayInputStream(archive), ExtractionLimits.DEFAULT));
    assertEquals(e.getMessage(), checked.getMessage());
  }

  @Test
  void checkAcceptsWhatPackWritesAndReturnsConfigYaml() throws Exception {
    byte[] config = PayloadArchive.check(new ByteArrayInputStream(pack(appDir())), ExtractionLimits.DEFAULT);

    assertEquals("services: {}\n", new String(config, UTF_8));
  }

  @Test
  void checkAcceptsHardLinkToAFileBeforeIt() throws Exception {
    byte[] archive = tarGz(tar -> {
      file(tar, "config.yaml", "services: {}\n");
      file(tar, "a.txt", "same");
      TarArchiveEntry link = new TarArchiveEntry("b.txt", TarConstants.LF_LINK);
      link.setLinkName("a.txt");
      tar.putArchiveEntry(link);
      tar.closeArchiveEntry();
    });

    PayloadArchive.check(new ByteArrayInputStream(archive), ExtractionLimits.DEFAULT);
  }

  @Test
  void checkRefusesAHardLinkToAFileThatComesLater() throws Exception {
    byte[] archive = tarGz(tar -> {
      file(tar, "config.yaml", "services: {}\n");
      TarArchiveEntry link = new TarArchiveEntry("b.txt", TarConstants.LF_LINK);
      link.setLinkName("a.txt");
      tar.putArchiveEntry(link);
      tar.closeArchiveEntry();
      file(tar, "a.txt", "later");
    });

    assertRejected(archive, "hard link 'b.txt' -> 'a.txt' does not name a file extracted before it");
  }

  @Test
  void checkRefusesAFifo() throws Exception {
    byte[] archive = tarGz(tar -> {
      file(tar, "config.yaml", "services: {}\n");
      tar.putArchiveEntry(new TarArchiveEntry("run/pipe", TarConstants.LF_FIFO));
      tar.closeArchiveEntry();
    });

    assertRejected(archive, "archive entry 'run/pipe' is a device or fifo");
  }

  @Test
  void checkSaysAConfigYamlSymlinkIsASymlink() throws Exception {
    byte[] archive = tarGz(tar -> {
      file(tar, "real.yaml", "services: {}\n");
      symlink(tar, "config.yaml", "real.yaml");
    });

    InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.check(new ByteArrayInputStream(archive), ExtractionLimits.DEFAULT));

    assertTrue(e.getMessage().startsWith("config.yaml at the payload root is a symlink (to 'real.yaml')"),
        e.getMessage());
  }

  @Test
  void checkAppliesTheByteAndEntryLimitsWithExtractionsMessages() throws Exception {
    byte[] big = tarGz(tar -> {
      file(tar, "config.yaml", "services: {}\n");
      file(tar, "a.bin", "x".repeat(600));
      file(tar, "b.bin", "x".repeat(600));
    });
    InvalidArchiveException tooBig = assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.check(new ByteArrayInputStream(big), new ExtractionLimits(1000, 10)));
    assertEquals("archive expands to more than 1000 bytes (limit reached in 'b.bin')", tooBig.getMessage());

    InvalidArchiveException tooMany = assertThrows(InvalidArchiveException.class,
        () -> PayloadArchive.check(new ByteArrayInputStream(big), new ExtractionLimits(10_000, 2)));
    assertEquals("archive has more than 2 entries, the extraction limit", tooMany.getMessage());
  }

  interface TarWriter {
    void write(TarArchiveOutputStream tar) throws IOException;
  }

  /** Builds an archive by hand, so tests can make ones that pack() would never write. */
  private static byte[] tarGz(TarWriter writer) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(bytes))) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      writer.write(tar);
    }
    return bytes.toByteArray();
  }

  private static void file(TarArchiveOutputStream tar, String name, String content)
      throws IOException {
    byte[] data = content.getBytes(UTF_8);
    TarArchiveEntry entry = new TarArchiveEntry(name);
    entry.setSize(data.length);
    tar.putArchiveEntry(entry);
    tar.write(data);
    tar.closeArchiveEntry();
  }

  private static void dir(TarArchiveOutputStream tar, String name) throws IOException {
    tar.putArchiveEntry(new TarArchiveEntry(name, TarConstants.LF_DIR));
    tar.closeArchiveEntry();
  }

  private static void symlink(TarArchiveOutputStream tar, String name, String target)
      throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
    entry.setLinkName(target);
    tar.putArchiveEntry(entry);
    tar.closeArchiveEntry();
  }
}
