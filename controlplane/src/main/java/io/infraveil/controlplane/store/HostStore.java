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

  /**
   * Records the highest revision each host acknowledged, for many hosts in one batch (acks
   * arrive in bursts after a fan-out; one statement each would hold a connection per ack).
   */
  public void setAckedRevisions(Map<String, Long> revisions) {
    if (revisions.isEmpty()) {
      return;
    }
    jdbc.inTransaction("record the acked revisions of " + revisions.size() + " hosts", c -> {
      try (java.sql.PreparedStatement s = c.prepareStatement(
          "UPDATE hosts SET acked_revision = GREATEST(acked_revision, ?) WHERE name = ?")) {
        for (var entry : new java.util.TreeMap<>(revisions).entrySet()) { // one lock order for every writer
          s.setLong(1, entry.getValue());
          s.setString(2, entry.getKey());
          s.addBatch();
        }
        s.executeBatch();
      }
      return null;
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

  /**
   * Stores a host's desired state under {@code revision} only if the stored revision is still
   * {@code expected}: the database, not a counter in one control plane, decides which writer
   * gets a revision. False when another writer stored one in between (read it and decide again).
   */
  public boolean compareAndSetDesiredState(String name, long expected, long revision, byte[] desiredState) {
    return jdbc.update("store the desired state of " + name,
        "UPDATE hosts SET desired_revision = ?, desired_state = ? WHERE name = ? AND desired_revision = ?",
        s -> {
          s.setLong(1, revision);
          s.setBytes(2, desiredState);
          s.setString(3, name);
          s.setLong(4, expected);
        }) == 1;
  }

  /** One compare-and-set of a host's desired state: {@code revision} stored only over {@code expected}. */
  public record DesiredWrite(String name, long expected, long revision, byte[] state) {}

  /**
   * {@link #compareAndSetDesiredState} for many hosts in one JDBC batch (inside the caller's
   * transaction when there is one). Returns, per write in order, whether it was stored; a
   * write another writer overtook is false (read that host again and decide again).
   */
  public boolean[] compareAndSetDesiredStates(List<DesiredWrite> writes) {
    boolean[] stored = new boolean[writes.size()];
    if (writes.isEmpty()) {
      return stored;
    }
    jdbc.inTransaction("store the desired states of " + writes.size() + " hosts", c -> {
      try (java.sql.PreparedStatement s = c.prepareStatement(
          "UPDATE hosts SET desired_revision = ?, desired_state = ? WHERE name = ? AND desired_revision = ?")) {
        for (DesiredWrite write : writes) {
          s.setLong(1, write.revision());
          s.setBytes(2, write.state());
          s.setString(3, write.name());
          s.setLong(4, write.expected());
          s.addBatch();
        }
        int[] counts = s.executeBatch();
        for (int i = 0; i < counts.length; i++) {
          // A driver may answer "done, count unknown": then the stored revision says who won.
          DesiredWrite write = writes.get(i);
          stored[i] = counts[i] == 1 || (counts[i] == java.sql.Statement.SUCCESS_NO_INFO
              && storedDesired(write.name()).map(d -> d.revision() == write.revision()).orElse(false));
        }
      }
      return null;
    });
    return stored;
  }

  /** The stored desired revision of a host, and its state (null if none was ever computed). */
  public record StoredDesired(long revision, byte[] state) {}

  /** Every host's stored desired revision and state, by name. */
  public Map<String, StoredDesired> desiredStates() {
    Map<String, StoredDesired> out = new java.util.HashMap<>();
    jdbc.query("read the desired states", "SELECT name, desired_revision, desired_state FROM hosts", s -> {},
        r -> out.put(r.getString(1), new StoredDesired(r.getLong(2), r.getBytes(3))));
    return out;
  }

  /** The stored desired revision and state of the named hosts that exist, read a few hundred at a time. */
  public Map<String, StoredDesired> desiredStates(java.util.Collection<String> names) {
    Map<String, StoredDesired> out = new java.util.HashMap<>();
    List<String> all = List.copyOf(names);
    for (int from = 0; from < all.size(); from += 500) {
      List<String> part = all.subList(from, Math.min(all.size(), from + 500));
      String marks = String.join(", ", java.util.Collections.nCopies(part.size(), "?"));
      jdbc.query("read the desired states of " + part.size() + " hosts",
          "SELECT name, desired_revision, desired_state FROM hosts WHERE name IN (" + marks + ")", s -> {
            for (int i = 0; i < part.size(); i++) {
              s.setString(i + 1, part.get(i));
            }
          }, r -> out.put(r.getString(1), new StoredDesired(r.getLong(2), r.getBytes(3))));
    }
    return out;
  }

  /** One host's stored desired revision and state, if the host exists. */
  public Optional<StoredDesired> storedDesired(String name) {
    return jdbc.queryOne("read the desired state of " + name,
        "SELECT desired_revision, desired_state FROM hosts WHERE name = ?", s -> s.setString(1, name),
        r -> new StoredDesired(r.getLong(1), r.getBytes(2)));
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
