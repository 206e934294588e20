package io.infraveil.host.payload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignatures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pinning publisher keys into the host's identity dir, as the launcher's flag does. */
class PublisherPinsTest {

  @TempDir Path work;
  private CacheLayout layout;
  private PublicKey release;
  private Path releaseFile;

  @BeforeEach
  void keys() throws Exception {
    layout = new CacheLayout(work.resolve("data"));
    release = PublisherKeys.newKeyPair(new SecureRandom()).getPublic();
    releaseFile = Files.writeString(work.resolve("release.pub"), PublisherKeys.toPem(release));
  }

  @Test
  void pinsAKeyThatPublisherTrustThenRequires() throws Exception {
    PublisherPins.Result result = PublisherPins.pin(layout, List.of(releaseFile));

    assertEquals(List.of(PublisherSignatures.keyId(release)), result.added());
    assertEquals(List.of(), result.alreadyPinned());
    assertEquals(List.of(release),
        PublisherKeys.allFromPem(Files.readString(layout.publishersFile())));
    assertEquals("rw-r--r--", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(layout.publishersFile())));
    assertTrue(PublisherTrust.fromHost(layout).required());
  }

  @Test
  void pinningAgainChangesNothingAndAnotherKeyIsAddedBesideTheFirst() throws Exception {
    PublisherPins.pin(layout, List.of(releaseFile));
    String once = Files.readString(layout.publishersFile());

    PublisherPins.Result again = PublisherPins.pin(layout, List.of(releaseFile));
    assertEquals(List.of(), again.added());
    assertEquals(List.of(PublisherSignatures.keyId(release)), again.alreadyPinned());
    assertEquals(once, Files.readString(layout.publishersFile()));

    PublicKey backup = PublisherKeys.newKeyPair(new SecureRandom()).getPublic();
    Path backupFile = Files.writeString(work.resolve("backup.pub"), PublisherKeys.toPem(backup));
    PublisherPins.pin(layout, List.of(backupFile));
    assertEquals(List.of(release, backup),
        PublisherKeys.allFromPem(Files.readString(layout.publishersFile())));
  }

  @Test
  void aPrivateKeyFileIsRefusedAndNothingIsPinned() throws Exception {
    Path privateFile = Files.writeString(work.resolve("release.key"), PublisherKeys.privateKeyToPem(
        PublisherKeys.newKeyPair(new SecureRandom()).getPrivate()));

    IOException e = assertThrows(IOException.class,
        () -> PublisherPins.pin(layout, List.of(releaseFile, privateFile)));

    assertTrue(e.getMessage().contains("publisher key file " + privateFile + " is not usable: "
        + "expected PEM blocks of type PUBLIC KEY, found 'PRIVATE KEY'"), e.getMessage());
    assertFalse(Files.exists(layout.publishersFile()), "nothing pinned, not even the good key");
  }

  @Test
  void aMissingFileSaysWhatToCopy() {
    Path missing = work.resolve("nope.pub");

    IOException e = assertThrows(IOException.class, () -> PublisherPins.pin(layout, List.of(missing)));

    assertTrue(e.getMessage().contains("publisher key file " + missing + " does not exist; copy "
        + "the NAME.pub"), e.getMessage());
    assertFalse(Files.exists(layout.publishersFile()));
  }
}
