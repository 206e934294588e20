package io.infraveil.controlplane.store;

import jakarta.inject.Singleton;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Enrolled hosts, with the desired state last computed for each. */
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

  private static final String COLUMNS = "name, identity, labels_json, host_secret_sealed, enrolled_at,"
      + " revoked_at, desired_revision, acked_revision";

  private final Jdbc jdbc;

  public HostStore(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  /** Inserts or replaces a host at (re-)enrollment; clears a previous revocation. */
  public void upsert(String name, String identity, Map<String, String> labels, byte[] sealedSecret,
      Instant enrolledAt) {
    jdbc.update("store host " + name,
        jdbc.dialect().upsert("hosts", "name",
            "name, identity, labels_json, host_secret_sealed, enrolled_at, revoked_at"),
        s -> {
          s.setString(1, name);
          s.setString(2, identity);
          s.setString(3, Labels.toJson(labels));
          s.setBytes(4, sealedSecret);
          s.setTimestamp(5, Timestamp.from(enrolledAt));
          s.setNull(6, Types.TIMESTAMP_WITH_TIMEZONE);
        });
  }

  public Optional<HostRecord> find(String name) {
    return jdbc.queryOne("read host " + name, "SELECT " + COLUMNS + " FROM hosts WHERE name = ?",
        s -> s.setString(1, name), HostStore::read);
  }

  public List<HostRecord> list() {
    return jdbc.query("list hosts", "SELECT " + COLUMNS + " FROM hosts ORDER BY name", s -> {}, HostStore::read);
  }

  public void markRevoked(String name, Instant at) {
    jdbc.update("revoke host " + name, "UPDATE hosts SET revoked_at = ? WHERE name = ?", s -> {
      s.setTimestamp(1, Timestamp.from(at));
      s.setString(2, name);
    });
  }

  public void setAckedRevision(String name, long revision) {
    jdbc.update("record the acked revision of " + name,
        "UPDATE hosts SET acked_revision = GREATEST(acked_revision, ?) WHERE name = ?", s -> {
          s.setLong(1, revision);
          s.setString(2, name);
        });
  }

  /** Stores the desired state computed for a host, with its revision. */
  public void setDesiredState(String name, long revision, byte[] desiredState) {
    jdbc.update("store the desired state of " + name,
        "UPDATE hosts SET desired_revision = ?, desired_state = ? WHERE name = ?", s -> {
          s.setLong(1, revision);
          s.setBytes(2, desiredState);
          s.setString(3, name);
        });
  }

  /** The desired state last computed for a host, if any. */
  public Optional<byte[]> desiredState(String name) {
    return jdbc.queryOne("read the desired state of " + name,
        "SELECT desired_state FROM hosts WHERE name = ? AND desired_state IS NOT NULL",
        s -> s.setString(1, name), r -> r.getBytes(1));
  }

  private static HostRecord read(ResultSet r) throws SQLException {
    Timestamp revoked = r.getTimestamp("revoked_at");
    return new HostRecord(r.getString("name"), r.getString("identity"),
        Labels.fromJson(r.getString("labels_json")), r.getBytes("host_secret_sealed"),
        r.getTimestamp("enrolled_at").toInstant(), revoked == null ? null : revoked.toInstant(),
        r.getLong("desired_revision"), r.getLong("acked_revision"));
  }
}
