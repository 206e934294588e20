package io.infraveil.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Client certificates are judged by PKIX as before, and every refusal is reported with its reason. */
class RecordingTrustManagerTest {

  private final CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
  private final List<RecordingTrustManager.RefusedClient> refused = new ArrayList<>();
  private final RecordingTrustManager trust = new RecordingTrustManager(List.of(ca.certificate()), refused::add);

  private X509Certificate[] chain(X509Certificate leaf) {
    return new X509Certificate[] {leaf};
  }

  @Test
  void acceptsACertificateOfTheCaAndReportsNothing() throws Exception {
    KeyPair pair = KeyPairs.ecP256();
    trust.checkClientTrusted(chain(ca.issue(pair.getPublic(), Identity.host("test.infraveil", "a"),
        Duration.ofHours(1), List.of())), "ECDHE_ECDSA");
    assertEquals(List.of(), refused);
  }

  @Test
  void refusesAndReportsAnExpiredCertificate() {
    KeyPair pair = KeyPairs.ecP256();
    X509Certificate expired = ca.issueBetween(pair.getPublic(), Identity.host("test.infraveil", "old"),
        Instant.now().minus(Duration.ofDays(2)), Instant.now().minus(Duration.ofDays(1)), List.of());
    assertThrows(CertificateException.class, () -> trust.checkClientTrusted(chain(expired), "ECDHE_ECDSA"));
    assertEquals(1, refused.size());
    assertEquals("spiffe://test.infraveil/host/old", refused.get(0).identity());
    assertEquals(expired.getSerialNumber().toString(16), refused.get(0).serialHex());
    assertTrue(refused.get(0).reason().contains("validity check failed"), refused.get(0).reason());
  }

  @Test
  void refusesAndReportsACertificateOfAnotherCa() {
    CertificateAuthority other = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    X509Certificate foreign = other.issue(KeyPairs.ecP256().getPublic(), Identity.operator("test.infraveil", "eve"),
        Duration.ofHours(1), List.of());
    assertThrows(CertificateException.class, () -> trust.checkClientTrusted(chain(foreign), "ECDHE_ECDSA"));
    assertEquals("spiffe://test.infraveil/operator/eve", refused.get(0).identity());
    assertTrue(refused.get(0).subject().contains("CN=eve"), refused.get(0).subject());
  }
}
