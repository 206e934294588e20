package io.infraveil.controlplane.store;

import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** Serials of issued certificates and of revoked ones. */
@Singleton
public final class CertificateStore {

  /** One issued certificate. */
  public record IssuedCertificate(String serial, String identity, String hostName, Instant notBefore,
      Instant notAfter, Instant issuedAt) {}

  private final DataSource dataSource;

  public CertificateStore(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  public void recordIssued(IssuedCertificate certificate) {
    String sql = "INSERT INTO certificates (serial, identity, host_name, not_before, not_after, issued_at)"
        + " VALUES (?, ?, ?, ?, ?, ?)";
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, certificate.serial());
      s.setString(2, certificate.identity());
      s.setString(3, certificate.hostName());
      s.setTimestamp(4, Timestamp.from(certificate.notBefore()));
      s.setTimestamp(5, Timestamp.from(certificate.notAfter()));
      s.setTimestamp(6, Timestamp.from(certificate.issuedAt()));
      s.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot record certificate " + certificate.serial(), e);
    }
  }

  public List<IssuedCertificate> forHost(String hostName) {
    String sql = "SELECT * FROM certificates WHERE host_name = ? ORDER BY issued_at";
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, hostName);
      try (ResultSet r = s.executeQuery()) {
        List<IssuedCertificate> out = new ArrayList<>();
        while (r.next()) {
          out.add(new IssuedCertificate(r.getString("serial"), r.getString("identity"),
              r.getString("host_name"), r.getTimestamp("not_before").toInstant(),
              r.getTimestamp("not_after").toInstant(), r.getTimestamp("issued_at").toInstant()));
        }
        return out;
      }
    } catch (SQLException e) {
      throw new StoreException("cannot list certificates of " + hostName, e);
    }
  }

  public void revoke(String serial, Instant at, String reason) {
    String sql = "MERGE INTO revocations (serial, revoked_at, reason) KEY (serial) VALUES (?, ?, ?)";
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, serial);
      s.setTimestamp(2, Timestamp.from(at));
      s.setString(3, reason);
      s.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot revoke certificate " + serial, e);
    }
  }

  public List<String> revokedSerials() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement("SELECT serial FROM revocations");
        ResultSet r = s.executeQuery()) {
      List<String> out = new ArrayList<>();
      while (r.next()) {
        out.add(r.getString(1));
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("cannot list revocations", e);
    }
  }
}
