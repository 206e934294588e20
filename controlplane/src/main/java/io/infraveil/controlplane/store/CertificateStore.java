package io.infraveil.controlplane.store;

import jakarta.inject.Singleton;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/** Serials of issued certificates and of revoked ones. */
@Singleton
public final class CertificateStore {

  /** One issued certificate. */
  public record IssuedCertificate(String serial, String identity, String hostName, Instant notBefore,
      Instant notAfter, Instant issuedAt) {}

  private final Jdbc jdbc;

  public CertificateStore(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  public void recordIssued(IssuedCertificate certificate) {
    jdbc.update("record certificate " + certificate.serial(),
        "INSERT INTO certificates (serial, identity, host_name, not_before, not_after, issued_at)"
            + " VALUES (?, ?, ?, ?, ?, ?)",
        s -> {
          s.setString(1, certificate.serial());
          s.setString(2, certificate.identity());
          s.setString(3, certificate.hostName());
          s.setTimestamp(4, Timestamp.from(certificate.notBefore()));
          s.setTimestamp(5, Timestamp.from(certificate.notAfter()));
          s.setTimestamp(6, Timestamp.from(certificate.issuedAt()));
        });
  }

  public List<IssuedCertificate> forHost(String hostName) {
    return jdbc.query("list certificates of " + hostName,
        "SELECT * FROM certificates WHERE host_name = ? ORDER BY issued_at",
        s -> s.setString(1, hostName),
        r -> new IssuedCertificate(r.getString("serial"), r.getString("identity"), r.getString("host_name"),
            r.getTimestamp("not_before").toInstant(), r.getTimestamp("not_after").toInstant(),
            r.getTimestamp("issued_at").toInstant()));
  }

  public void revoke(String serial, Instant at, String reason) {
    jdbc.update("revoke certificate " + serial,
        jdbc.dialect().upsert("revocations", "serial", "serial, revoked_at, reason"),
        s -> {
          s.setString(1, serial);
          s.setTimestamp(2, Timestamp.from(at));
          s.setString(3, reason);
        });
  }

  public List<String> revokedSerials() {
    return jdbc.query("list revocations", "SELECT serial FROM revocations", s -> {}, r -> r.getString(1));
  }
}
