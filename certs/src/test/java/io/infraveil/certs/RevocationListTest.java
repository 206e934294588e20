package io.infraveil.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Revocation matches serials whatever their case or leading zeros. */
class RevocationListTest {

  private final CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());

  private X509Certificate issue(String name) {
    return ca.issue(KeyPairs.ecP256().getPublic(), Identity.host("test.infraveil", name),
        Duration.ofHours(1), List.of());
  }

  @Test
  void revokedCertificateIsRevokedAndOthersAreNot() {
    X509Certificate revoked = issue("web-1");
    X509Certificate kept = issue("web-2");
    RevocationList list = new RevocationList();

    list.revoke(revoked.getSerialNumber().toString(16));

    assertTrue(list.isRevoked(revoked));
    assertFalse(list.isRevoked(kept));
    assertEquals(1, list.size());
  }

  @Test
  void serialsAreNormalized() {
    RevocationList list = new RevocationList(List.of("00AbC"));
    assertTrue(list.isRevoked("abc"));
    assertTrue(list.isRevoked("0ABC"));
    assertFalse(list.isRevoked("abd"));
    list.revoke("abc");
    assertEquals(1, list.size());
  }
}
