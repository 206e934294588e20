package io.infraveil.certs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;

/** The CA decides identities itself: a CSR proves key possession and nothing else. */
class CertificateAuthorityTest {

  private static final Instant NOW = Instant.parse("2025-01-01T00:00:00Z");
  private final CertificateAuthority ca =
      CertificateAuthority.create("test.infraveil", Clock.fixed(NOW, ZoneOffset.UTC));

  @Test
  void signCsrIgnoresTheSubjectTheCsrAsksFor() throws Exception {
    KeyPair pair = KeyPairs.ecP256();
    PKCS10CertificationRequest csr = Csrs.create(pair, "spiffe://test.infraveil/operator/root");
    Identity decided = Identity.host("test.infraveil", "web-1");

    X509Certificate certificate = ca.signCsr(csr, decided, Duration.ofDays(7));

    assertEquals(decided, PeerIdentity.identityOf(certificate).orElseThrow());
    assertTrue(certificate.getSubjectX500Principal().getName().contains("CN=web-1"),
        certificate.getSubjectX500Principal().getName());
    assertArrayEquals(pair.getPublic().getEncoded(), certificate.getPublicKey().getEncoded());
    certificate.verify(ca.certificate().getPublicKey());
    assertEquals(NOW.plus(Duration.ofDays(7)), certificate.getNotAfter().toInstant());
  }

  @Test
  void signCsrRefusesACsrWhoseSignatureDoesNotVerify() throws Exception {
    KeyPair claimed = KeyPairs.ecP256();
    KeyPair signer = KeyPairs.ecP256();
    // Carries one public key but is signed with another: no proof of possession.
    PKCS10CertificationRequest forged = new JcaPKCS10CertificationRequestBuilder(
        new X500Name("CN=web-1"), claimed.getPublic())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate()));

    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> ca.signCsr(forged, Identity.host("test.infraveil", "web-1"), Duration.ofDays(7)));
    assertTrue(error.getMessage().contains("signature does not verify"), error.getMessage());
  }

  @Test
  void refusesIdentitiesOfAnotherTrustDomain() {
    KeyPair pair = KeyPairs.ecP256();
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> ca.issue(pair.getPublic(), Identity.host("other.domain", "web-1"), Duration.ofDays(1), List.of()));
    assertTrue(error.getMessage().contains("outside trust domain"), error.getMessage());
  }

  @Test
  void serverCertificatesCarryDnsAndIpSans() throws Exception {
    KeyPair pair = KeyPairs.ecP256();
    X509Certificate certificate = ca.issue(pair.getPublic(),
        new Identity("test.infraveil", Identity.Kind.CONTROL_PLANE, "cp"), Duration.ofDays(1),
        List.of("cp.example.org", "10.0.0.7"));
    List<List<?>> sans = List.copyOf(certificate.getSubjectAlternativeNames());
    assertTrue(sans.contains(List.of(2, "cp.example.org")), sans.toString());
    assertTrue(sans.contains(List.of(7, "10.0.0.7")), sans.toString());
    assertTrue(sans.contains(List.of(6, "spiffe://test.infraveil/controlplane/cp")), sans.toString());
  }

  @Test
  void caCertificateNamesItsTrustDomain() {
    assertEquals("test.infraveil", ca.trustDomain());
    assertEquals("test.infraveil", PeerIdentity.trustDomainOfCa(ca.certificate()));
    assertEquals(0, ca.certificate().getBasicConstraints());
  }
}
