package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The master key is written whole or not at all, and what a crash left is cleared at start. */
class MasterKeyTest {

  @TempDir Path dir;

  private ControlPlaneSettings settings() {
    return new ControlPlaneSettings(dir.resolve("data"), dir.resolve("pki"), "controlplane",
        Duration.ofDays(7), Duration.ofHours(1));
  }

  private List<String> dataFiles() throws Exception {
    try (Stream<Path> files = Files.list(dir.resolve("data"))) {
      return files.map(file -> file.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void firstStartWritesAComplete0600KeyAndNoTempFile() throws Exception {
    MasterKey key = new MasterKey(settings(), new SecureRandom());

    Path file = dir.resolve("data/master.key");
    assertEquals(32, Files.size(file));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(List.of("master.key"), dataFiles());
    // A second start reads the same key: what one sealed, the other opens.
    byte[] sealed = key.seal("secret".getBytes(StandardCharsets.UTF_8), "ctx");
    assertArrayEquals("secret".getBytes(StandardCharsets.UTF_8),
        new MasterKey(settings(), new SecureRandom()).open(sealed, "ctx"));
  }

  @Test
  void aTempLeftByACrashIsRemovedAndTheKeyKept() throws Exception {
    MasterKey before = new MasterKey(settings(), new SecureRandom());
    byte[] sealed = before.seal(new byte[] {1, 2, 3}, "ctx");
    // A crash mid-write: a torn temp beside the key (this name and the older ".masterNNN.tmp").
    Files.write(dir.resolve("data/.master.key.123.tmp"), new byte[7]);
    Files.write(dir.resolve("data/.master456.tmp"), new byte[32]);

    MasterKey after = new MasterKey(settings(), new SecureRandom());

    assertEquals(List.of("master.key"), dataFiles());
    assertArrayEquals(new byte[] {1, 2, 3}, after.open(sealed, "ctx"));
  }

  @Test
  void aCrashBeforeTheRenameLeavesNoKeySoANewOneIsMade() throws Exception {
    Files.createDirectories(dir.resolve("data"));
    Files.write(dir.resolve("data/.master.key.999.tmp"), new byte[12]);

    new MasterKey(settings(), new SecureRandom());

    assertEquals(List.of("master.key"), dataFiles());
    assertEquals(32, Files.size(dir.resolve("data/master.key")));
  }

  @Test
  void aTruncatedKeyIsRefusedNotReplaced() throws Exception {
    Files.createDirectories(dir.resolve("data"));
    Files.write(dir.resolve("data/master.key"), new byte[31]);

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new MasterKey(settings(), new SecureRandom()));

    assertTrue(e.getMessage().contains("must hold 32 bytes, found 31: restore it from backup"), e.getMessage());
    assertEquals(31, Files.size(dir.resolve("data/master.key")));
  }

  @Test
  void controlPlaneStartRemovesWhatAKilledUploadLeft() throws Exception {
    new TestPki(dir.resolve("pki"));
    Path data = dir.resolve("data");
    Files.createDirectories(data.resolve("uploads"));
    Files.createDirectories(data.resolve("payloads"));
    Files.write(data.resolve("uploads/upload-123.tgz"), new byte[100]);
    String sha = "ab".repeat(32);
    Files.write(data.resolve("payloads/." + sha + ".77.tmp"), new byte[100]);
    Files.write(data.resolve("payloads/" + sha + ".enc"), new byte[100]);

    try (ControlPlane controlPlane = ControlPlane.start(data, dir.resolve("pki"), 0, Map.of())) {
      assertFalse(Files.exists(data.resolve("uploads/upload-123.tgz")), "the upload spool is emptied");
      // Payload ciphertext lives in the database (PayloadRowsTest imports files rows name): a
      // sealing temp and a file no payload row names are worthless.
      assertFalse(Files.exists(data.resolve("payloads")), "sealing temps and unnamed payload files go");
    }
  }
}
