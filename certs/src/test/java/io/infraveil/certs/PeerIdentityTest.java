package io.infraveil.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The identity is read from the URI SAN, never from the subject or other SANs. */
class PeerIdentityTest {

  private final CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());

  @Test
  void readsTheUriSan() {
    KeyPair pair = KeyPairs.ecP256();
    Identity operator = Identity.operator("test.infraveil", "alice");
    X509Certificate certificate = ca.issue(pair.getPublic(), operator, Duration.ofHours(1),
        List.of("alice.example.org"));

    assertEquals(Optional.of(operator), PeerIdentity.identityOf(certificate));
  }

  @Test
  void theCaCertificateIsNoPeerIdentity() {
    // Its URI SAN is spiffe://<domain> with no kind or name.
    assertTrue(PeerIdentity.identityOf(ca.certificate()).isEmpty());
  }

  @Test
  void aMissingSessionHasNoPeer() {
    assertTrue(PeerIdentity.fromSession(null).isEmpty());
  }

  @Test
  void serialHexIsLowerCaseHex() {
    KeyPair pair = KeyPairs.ecP256();
    X509Certificate certificate = ca.issue(pair.getPublic(), Identity.host("test.infraveil", "web-1"),
        Duration.ofHours(1), List.of());
    var peer = new PeerIdentity.VerifiedPeer(Identity.host("test.infraveil", "web-1"), certificate);
    assertEquals(certificate.getSerialNumber().toString(16), peer.serialHex());
    assertEquals(peer.serialHex().toLowerCase(), peer.serialHex());
  }
}
