package io.infraveil.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keys on disk are PKCS#8 (the form Netty reads) and readable by the owner only. */
class PkiDirectoryTest {

  @TempDir Path dir;

  @Test
  void writesKeysAsPkcs8WithMode0600() throws Exception {
    PkiDirectory pki = new PkiDirectory(dir, Clock.systemUTC());
    pki.init("test.infraveil");
    PkiDirectory.Issued issued = pki.issue(Identity.Kind.OPERATOR, "alice", List.of(), Duration.ofDays(1));

    for (Path key : List.of(dir.resolve("ca.key"), issued.keyFile())) {
      String pem = Files.readString(key);
      assertTrue(pem.startsWith("-----BEGIN PRIVATE KEY-----"), key + ": " + pem);
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)), key.toString());
    }
    assertEquals("rw-r--r--", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(issued.certFile())));
    // The key written is the key certified.
    assertEquals(issued.certificate().getPublicKey(),
        Pem.readCertificate(issued.certFile()).getPublicKey());
    Pem.readPrivateKey(issued.keyFile());
    assertEquals(Identity.operator("test.infraveil", "alice"), issued.identity());
  }

  @Test
  void refusesToReplaceAnExistingCa() throws Exception {
    PkiDirectory pki = new PkiDirectory(dir, Clock.systemUTC());
    pki.init("test.infraveil");
    String before = Files.readString(dir.resolve("ca.key"));

    IOException error = assertThrows(IOException.class, () -> pki.init("test.infraveil"));

    assertTrue(error.getMessage().contains("already exists"), error.getMessage());
    assertEquals(before, Files.readString(dir.resolve("ca.key")));
  }

  @Test
  void issueWithoutCaSaysToRunInit() {
    PkiDirectory pki = new PkiDirectory(dir.resolve("empty"), Clock.systemUTC());
    IOException error = assertThrows(IOException.class,
        () -> pki.issue(Identity.Kind.OPERATOR, "alice", List.of(), Duration.ofDays(1)));
    assertTrue(error.getMessage().contains("certs init"), error.getMessage());
  }
}
