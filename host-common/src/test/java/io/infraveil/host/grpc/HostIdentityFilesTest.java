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

  @Test
  void parsesTargets() {
    assertEquals(new ControlPlaneChannels.Target("cp.example", 7443),
        ControlPlaneChannels.Target.parse("cp.example:7443"));
    assertEquals(new ControlPlaneChannels.Target("::1", 7443),
        ControlPlaneChannels.Target.parse("[::1]:7443"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ControlPlaneChannels.Target.parse("cp.example"));
    assertEquals("control plane address \"cp.example\" must look like host:port", e.getMessage());
  }
}
