package io.infraveil.controlplane.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.controlplane.store.CertificateStore.IssuedCertificate;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Issued certificates and revocations, the same on H2 and PostgreSQL. */
class CertificateStoreTest {

  static final Instant T0 = Instant.parse("2026-01-01T10:00:00.654321Z");

  @OnBothEngines
  void issuedCertificatesListPerHostInIssueOrder(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      CertificateStore certificates = new CertificateStore(db.jdbc());
      IssuedCertificate second = new IssuedCertificate("0b", "spiffe://t/host/web-1", "web-1",
          T0, T0.plusSeconds(3600), T0.plusSeconds(60));
      IssuedCertificate first = new IssuedCertificate("0a", "spiffe://t/host/web-1", "web-1",
          T0, T0.plusSeconds(3600), T0);
      IssuedCertificate operator = new IssuedCertificate("0c", "spiffe://t/operator/alice", null,
          T0, T0.plusSeconds(3600), T0);
      certificates.recordIssued(second);
      certificates.recordIssued(first);
      certificates.recordIssued(operator);

      assertEquals(List.of(first, second), certificates.forHost("web-1"));
      assertEquals(List.of(), certificates.forHost("web-2"));
    }
  }

  @OnBothEngines
  void revokingTwiceKeepsOneRowWithTheLatestReason(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      CertificateStore certificates = new CertificateStore(db.jdbc());
      certificates.revoke("0a", T0, "host replaced");
      certificates.revoke("0a", T0.plusSeconds(1), "revoked by alice");
      certificates.revoke("0b", T0, "revoked by alice");

      assertEquals(Set.of("0a", "0b"), new TreeSet<>(certificates.revokedSerials()));
      assertEquals(2, certificates.revokedSerials().size());
      assertEquals(List.of("revoked by alice"), db.jdbc().query("read reason",
          "SELECT reason FROM revocations WHERE serial = '0a'", s -> {}, r -> r.getString(1)));
    }
  }
}
