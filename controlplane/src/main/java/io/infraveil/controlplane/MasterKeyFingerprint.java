package io.infraveil.controlplane;

import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.payload.secret.SecretSeal;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure this control plane's master key is the one the database's sealed values belong to,
 * before it serves anything. The database holds the key's fingerprint (V11), never the key: the
 * first start records it, and a control plane given another key refuses to start naming both
 * fingerprints. With {@code infraveil.master-key-rotation-file} set, the start that finds the
 * database on the rotation's other key re-seals every stored data key and host secret with this
 * key and records its fingerprint, in one transaction; values sealed meanwhile with the other key
 * (by control planes not restarted yet) are re-sealed at every such start.
 */
@Singleton
public final class MasterKeyFingerprint {

  private static final Logger LOG = LoggerFactory.getLogger(MasterKeyFingerprint.class);

  /** What a start did about the master key. */
  public record Outcome(boolean recorded, int resealed) {}

  private final Jdbc jdbc;
  private final MasterKey key;
  private final Clock clock;

  public MasterKeyFingerprint(Jdbc jdbc, MasterKey key, Clock clock) {
    this.jdbc = jdbc;
    this.key = key;
    this.clock = clock;
  }

  /** Refuses a key that is not the database's; records or rotates as described above. */
  public Outcome verify() {
    return jdbc.inTransaction("check the master key against the database", c -> {
      Optional<String> stored = stored(c);
      String mine = key.fingerprint();
      Optional<String> other = key.rotationFingerprint();
      if (stored.isPresent() && !stored.get().equals(mine)
          && !(other.isPresent() && other.get().equals(stored.get()))) {
        throw new IllegalStateException("the master key " + key.file() + " (fingerprint " + shortly(mine)
            + ") is not the key this database's secrets are sealed with (fingerprint "
            + shortly(stored.get()) + "): give every control plane of one installation the same key file "
            + "(copy it, mode 0600, from a control plane that serves this database), or, to rotate to this "
            + "key, name the current one in infraveil.master-key-rotation-file; nothing was changed");
      }
      int resealed = other.isPresent() ? reseal(c) : 0;
      boolean recorded = stored.isEmpty() || !stored.get().equals(mine);
      if (recorded) {
        record(c, stored.isPresent(), mine);
        LOG.info("master_key_fingerprint_recorded fingerprint={} previous={} resealed={}", shortly(mine),
            stored.map(MasterKeyFingerprint::shortly).orElse("none"), resealed);
      } else if (resealed > 0) {
        LOG.info("master_key_resealed fingerprint={} resealed={}", shortly(mine), resealed);
      }
      return new Outcome(recorded, resealed);
    });
  }

  /** The first 16 hex digits: enough to tell keys apart in a message. */
  static String shortly(String fingerprint) {
    return fingerprint.substring(0, 16);
  }

  private static Optional<String> stored(Connection c) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT fingerprint FROM master_key_fingerprint WHERE id = 1");
        ResultSet r = s.executeQuery()) {
      return r.next() ? Optional.of(r.getString(1).trim()) : Optional.empty();
    }
  }

  private void record(Connection c, boolean exists, String fingerprint) throws SQLException {
    // Two control planes starting on a new database at once: the second insert fails on the
    // primary key, its start fails, and it passes on the next attempt (same key) or refuses.
    String sql = exists
        ? "UPDATE master_key_fingerprint SET fingerprint = ?, recorded_at = ? WHERE id = 1"
        : "INSERT INTO master_key_fingerprint (fingerprint, recorded_at, id) VALUES (?, ?, 1)";
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, fingerprint);
      s.setTimestamp(2, Timestamp.from(clock.instant()));
      s.executeUpdate();
    }
  }

  /** Re-seals what only the rotation's other key opens: payload and secret data keys, host secrets. */
  private int reseal(Connection c) throws SQLException {
    int count = 0;
    count += reseal(c, "SELECT sha256, data_key_sealed FROM payloads",
        "UPDATE payloads SET data_key_sealed = ? WHERE sha256 = ?",
        r -> "payload-data-key:" + r.getString(1).trim(), 1);
    count += reseal(c, "SELECT name, host_secret_sealed FROM hosts",
        "UPDATE hosts SET host_secret_sealed = ? WHERE name = ?",
        r -> "host-secret:" + r.getString(1), 1);
    try (PreparedStatement select = c.prepareStatement(
        "SELECT deployment, name, version, data_key_sealed FROM secrets");
        PreparedStatement update = c.prepareStatement(
            "UPDATE secrets SET data_key_sealed = ? WHERE deployment = ? AND name = ?");
        ResultSet r = select.executeQuery()) {
      while (r.next()) {
        String context = "secret-data-key:" + SecretSeal.binding(r.getString(1), r.getString(2), r.getLong(3));
        Optional<byte[]> resealed = key.resealIfRotated(r.getBytes(4), context);
        if (resealed.isPresent()) {
          update.setBytes(1, resealed.get());
          update.setString(2, r.getString(1));
          update.setString(3, r.getString(2));
          update.executeUpdate();
          count++;
        }
      }
    }
    return count;
  }

  @FunctionalInterface
  private interface Context {
    String of(ResultSet row) throws SQLException;
  }

  private int reseal(Connection c, String selectSql, String updateSql, Context context, int keyColumn)
      throws SQLException {
    int count = 0;
    try (PreparedStatement select = c.prepareStatement(selectSql);
        PreparedStatement update = c.prepareStatement(updateSql);
        ResultSet r = select.executeQuery()) {
      while (r.next()) {
        Optional<byte[]> resealed = key.resealIfRotated(r.getBytes(2), context.of(r));
        if (resealed.isPresent()) {
          update.setBytes(1, resealed.get());
          update.setString(2, r.getString(keyColumn));
          update.executeUpdate();
          count++;
        }
      }
    }
    return count;
  }
}
