package io.infraveil.host.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostIdentityFilesTest {

  @TempDir Path data;

  @Test
  void secretIsWrittenOwnerOnlyAndReadBack() throws IOException {
    HostIdentityFiles files = HostIdentityFiles.inDataDir(data);
    byte[] secret = new byte[32];
    secret[0] = 7;
    files.writeSecret(secret);
    assertEquals(data.resolve("identity/host_secret"), files.secretFile());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.secretFile())));
    assertArrayEquals(secret, files.readSecret());
  }

  @Test
  void refusesSecretOfWrongLength() {
    HostIdentityFiles files = HostIdentityFiles.inDataDir(data);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> files.writeSecret(new byte[16]));
    assertEquals("host secret must be 32 bytes, got 16", e.getMessage());
    assertFalse(Files.exists(files.secretFile()));
  }

  @Test
  void hostInfoRoundTripsAndCompletenessNeedsEveryFile() throws IOException {
    HostIdentityFiles files = HostIdentityFiles.inDataDir(data);
    var info = new HostIdentityFiles.HostInfo("web-1", "cp.example:7443", "prod");
    files.writeHostInfo(info);
    assertEquals(info, files.readHostInfo().orElseThrow());
    assertFalse(files.isComplete());
    files.writeSecret(new byte[32]);
    Files.writeString(files.caFile(), "x");
    Files.writeString(files.certificateFile(), "x");
    assertFalse(files.isComplete());
    Files.writeString(files.keyFile(), "x");
    assertTrue(files.isComplete());
  }

  /**
   * The private key and certificates go through the durable write: the key is 0600, the
   * certificates 0644, and no temp file stays behind.
   */
  @Test
  void keyAndCertificatesAreWrittenWholeWithTheirModes() throws Exception {
    HostIdentityFiles files = HostIdentityFiles.inDataDir(data);
    java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("EC");
    generator.initialize(256);
    java.security.PrivateKey key = generator.generateKeyPair().getPrivate();
    files.writeKey(key);
    files.writeCertificates("CERT\n", "CA\n");
    assertEquals("rw-------", mode(files.keyFile()));
    assertEquals("rw-r--r--", mode(files.certificateFile()));
    assertEquals("rw-r--r--", mode(files.caFile()));
    assertArrayEquals(key.getEncoded(), files.readKey().getEncoded());
    assertEquals("CERT\n", Files.readString(files.certificateFile()));
    try (var names = Files.list(files.dir())) {
      assertEquals(java.util.List.of("ca.crt", "host.crt", "host.key"),
          names.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  /** Temp files of identity writes a crash interrupted are removed; nothing else is. */
  @Test
  void removesStaleTempsOfIdentityFilesOnly() throws IOException {
    HostIdentityFiles files = HostIdentityFiles.inDataDir(data);
    files.writeSecret(new byte[32]);
    Path keyTemp = Files.writeString(files.dir().resolve(".host.key.8812731.tmp"), "half a key");
    Path oldStyle = Files.writeString(files.dir().resolve(".host.crt5512.tmp"), "half");
    Path foreign = Files.writeString(files.dir().resolve(".notes.txt.123.tmp"), "keep");

    assertEquals(java.util.Set.of(keyTemp, oldStyle), java.util.Set.copyOf(files.removeStaleTemps()));

    assertFalse(Files.exists(keyTemp));
    assertFalse(Files.exists(oldStyle));
    assertTrue(Files.exists(foreign));
    assertTrue(Files.exists(files.secretFile()));
  }

  private static String mode(Path file) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }

  @Test
  void parsesTargets() {
    assertEquals(new ControlPlaneChannels.Target("cp.example", 7443),
        ControlPlaneChannels.Target.parse("cp.example:7443"));
    assertEquals(new ControlPlaneChannels.Target("::1", 7443),
        ControlPlaneChannels.Target.parse("[::1]:7443"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ControlPlaneChannels.Target.parse("cp.example"));
    assertEquals("control plane endpoint \"cp.example\" must look like HOST:PORT", e.getMessage());
  }
}
