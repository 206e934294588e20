package io.infraveil.host.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyMatch;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A certificate renewal interrupted at any point leaves (or is brought back to) a matching pair. */
class IdentityRotationTest {

  @TempDir Path data;
  CertificateAuthority ca;
  HostIdentityFiles identity;
  KeyPair oldPair;
  KeyPair newPair;
  X509Certificate oldCert;
  X509Certificate newCert;

  @BeforeEach
  void setUp() throws Exception {
    ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    identity = HostIdentityFiles.inDataDir(data);
    oldPair = KeyPairs.ecP256();
    newPair = KeyPairs.ecP256();
    Identity host = Identity.host("test.infraveil", "web-1");
    oldCert = ca.issue(oldPair.getPublic(), host, Duration.ofHours(1), List.of());
    newCert = ca.issue(newPair.getPublic(), host, Duration.ofHours(1), List.of());
    identity.writeKey(oldPair.getPrivate());
    identity.writeCertificates(Pem.encode(oldCert), Pem.encode(ca.certificate()));
  }

  private void assertPair(X509Certificate expected) throws Exception {
    assertEquals(expected, Pem.readCertificate(identity.certificateFile()));
    assertTrue(KeyMatch.matches(identity.readKey(), expected));
    assertFalse(Files.exists(identity.nextKeyFile()));
    assertFalse(Files.exists(identity.nextCertificateFile()));
  }

  @Test
  void installRenewedSwapsBothFiles() throws Exception {
    identity.installRenewed(newPair.getPrivate(), Pem.encode(newCert));
    assertPair(newCert);
    assertEquals("NOTHING_PENDING", identity.recoverRotation());
  }

  @Test
  void crashBeforeAnyRenameCompletesTheRotation() throws Exception {
    Pem.writeSecret(identity.nextKeyFile(), Pem.encode(newPair.getPrivate()));
    Pem.writePublic(identity.nextCertificateFile(), Pem.encode(newCert));
    assertEquals("COMPLETED_BOTH", identity.recoverRotation());
    assertPair(newCert);
  }

  @Test
  void crashBetweenTheTwoRenamesCompletesTheKey() throws Exception {
    Pem.writeSecret(identity.nextKeyFile(), Pem.encode(newPair.getPrivate()));
    Pem.writePublic(identity.certificateFile(), Pem.encode(newCert));
    assertFalse(KeyMatch.matches(identity.readKey(), newCert), "the pair is mismatched mid-rotation");
    assertEquals("COMPLETED_KEY", identity.recoverRotation());
    assertPair(newCert);
  }

  @Test
  void crashBeforeTheRenewedCertificateArrivedKeepsTheOldPair() throws Exception {
    Pem.writeSecret(identity.nextKeyFile(), Pem.encode(newPair.getPrivate()));
    assertEquals("DISCARDED", identity.recoverRotation());
    assertPair(oldCert);
  }
}
