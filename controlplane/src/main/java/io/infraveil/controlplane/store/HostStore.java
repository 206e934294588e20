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
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/** Enrolled hosts. */
@Singleton
public final class HostStore {

  /** One host row. The host secret is sealed with the master key. */
  public record HostRecord(String name, String identity, Map<String, String> labels,
      byte[] hostSecretSealed, Instant enrolledAt, Instant revokedAt, long desiredRevision,
      long ackedRevision) {
    public boolean revoked() {
      return revokedAt != null;
    }
  }

  private final DataSource dataSource;

  public HostStore(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Inserts or replaces a host at (re-)enrollment; clears a previous revocation. */
  public void upsert(String name, String identity, Map<String, String> labels, byte[] sealedSecret,
      Instant enrolledAt) {
    String sql = "MERGE INTO hosts (name, identity, labels_json, host_secret_sealed, enrolled_at, revoked_at)"
        + " KEY (name) VALUES (?, ?, ?, ?, ?, NULL)";
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, name);
      s.setString(2, identity);
      s.setString(3, Labels.toJson(labels));
      s.setBytes(4, sealedSecret);
      s.setTimestamp(5, Timestamp.from(enrolledAt));
      s.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot store host " + name, e);
    }
  }

  public Optional<HostRecord> find(String name) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement("SELECT * FROM hosts WHERE name = ?")) {
      s.setString(1, name);
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? Optional.of(read(r)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new StoreException("cannot read host " + name, e);
    }
  }

  public List<HostRecord> list() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement("SELECT * FROM hosts ORDER BY name");
        ResultSet r = s.executeQuery()) {
      List<HostRecord> hosts = new ArrayList<>();
      while (r.next()) {
        hosts.add(read(r));
      }
      return hosts;
    } catch (SQLException e) {
      throw new StoreException("cannot list hosts", e);
    }
  }

  public void markRevoked(String name, Instant at) {
    update("UPDATE hosts SET revoked_at = ? WHERE name = ?", name, s -> {
      s.setTimestamp(1, Timestamp.from(at));
      s.setString(2, name);
    });
  }

  public void setDesiredRevision(String name, long revision) {
    update("UPDATE hosts SET desired_revision = ? WHERE name = ?", name, s -> {
      s.setLong(1, revision);
      s.setString(2, name);
    });
  }

  public void setAckedRevision(String name, long revision) {
    update("UPDATE hosts SET acked_revision = GREATEST(acked_revision, ?) WHERE name = ?", name, s -> {
      s.setLong(1, revision);
      s.setString(2, name);
    });
  }

  /** Stores the desired state computed for a host, with its revision. */
  public void setDesiredState(String name, long revision, byte[] desiredState) {
    update("UPDATE hosts SET desired_revision = ?, desired_state = ? WHERE name = ?", name, s -> {
      s.setLong(1, revision);
      s.setBytes(2, desiredState);
      s.setString(3, name);
    });
  }

  /** The desired state last computed for a host, if any. */
  public Optional<byte[]> desiredState(String name) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement("SELECT desired_state FROM hosts WHERE name = ?")) {
      s.setString(1, name);
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? Optional.ofNullable(r.getBytes(1)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new StoreException("cannot read the desired state of " + name, e);
    }
  }

  private interface Binder {
    void bind(PreparedStatement statement) throws SQLException;
  }

  private void update(String sql, String name, Binder binder) {
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      binder.bind(s);
      s.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot update host " + name, e);
    }
  }

  private static HostRecord read(ResultSet r) throws SQLException {
    Timestamp revoked = r.getTimestamp("revoked_at");
    return new HostRecord(r.getString("name"), r.getString("identity"),
        Labels.fromJson(r.getString("labels_json")), r.getBytes("host_secret_sealed"),
        r.getTimestamp("enrolled_at").toInstant(), revoked == null ? null : revoked.toInstant(),
        r.getLong("desired_revision"), r.getLong("acked_revision"));
  }
}
