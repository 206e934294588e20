package io.infraveil.controlplane.store;

import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Sealed secrets by (deployment, name), the newest version of each, and their version counters. */
@Singleton
public final class SecretStore {

  /** One stored secret version; both byte arrays are ciphertext. */
  public record SecretRecord(String deployment, String name, long version, byte[] valueSealed,
      byte[] dataKeySealed, String setBy, Instant setAt) {

    /** Names the secret, never its (sealed) bytes. */
    @Override
    public String toString() {
      return "SecretRecord[" + deployment + "/" + name + "@" + version + " set by " + setBy
          + " at " + setAt + "]";
    }
  }

  private final Jdbc jdbc;

  public SecretStore(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  /**
   * Takes the next version of a secret: 1 for a new one, never a number used before, also when
   * several control planes on one database set the same secret at once (the increment is one
   * UPDATE, which locks the counter's row; the first version is an INSERT that one writer wins).
   */
  public long nextVersion(String deployment, String name) {
    return jdbc.inTransaction("advance the version of secret " + deployment + "/" + name, c -> {
      for (int attempt = 1; ; attempt++) {
        try (PreparedStatement increment = c.prepareStatement("UPDATE secret_versions"
            + " SET last_version = last_version + 1 WHERE deployment = ? AND name = ?")) {
          increment.setString(1, deployment);
          increment.setString(2, name);
          if (increment.executeUpdate() == 1) {
            return lastVersion(c, deployment, name);
          }
        }
        // A failed statement ends a PostgreSQL transaction unless rolled back to a savepoint.
        Savepoint beforeInsert = c.setSavepoint();
        try (PreparedStatement insert = c.prepareStatement(
            "INSERT INTO secret_versions (deployment, name, last_version) VALUES (?, ?, 1)")) {
          insert.setString(1, deployment);
          insert.setString(2, name);
          insert.executeUpdate();
          c.releaseSavepoint(beforeInsert);
          return 1L;
        } catch (SQLException e) {
          if (!"23505".equals(e.getSQLState()) || attempt > 1) {
            throw e;
          }
          c.rollback(beforeInsert); // another writer made the counter first: increment it
        }
      }
    });
  }

  private static long lastVersion(Connection c, String deployment, String name) throws SQLException {
    try (PreparedStatement select = c.prepareStatement(
        "SELECT last_version FROM secret_versions WHERE deployment = ? AND name = ?")) {
      select.setString(1, deployment);
      select.setString(2, name);
      try (ResultSet r = select.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  public void upsert(SecretRecord secret) {
    jdbc.update("store secret " + secret.deployment() + "/" + secret.name(),
        jdbc.dialect().upsert("secrets", "deployment, name",
            "deployment, name, version, value_sealed, data_key_sealed, set_by, set_at"),
        s -> {
          s.setString(1, secret.deployment());
          s.setString(2, secret.name());
          s.setLong(3, secret.version());
          s.setBytes(4, secret.valueSealed());
          s.setBytes(5, secret.dataKeySealed());
          s.setString(6, secret.setBy());
          s.setTimestamp(7, Timestamp.from(secret.setAt()));
        });
  }

  /** The deployment's secrets, ordered by name. */
  public List<SecretRecord> list(String deployment) {
    return jdbc.query("list the secrets of " + deployment,
        "SELECT * FROM secrets WHERE deployment = ? ORDER BY name", s -> s.setString(1, deployment),
        SecretStore::read);
  }

  public Optional<SecretRecord> find(String deployment, String name) {
    return jdbc.queryOne("read secret " + deployment + "/" + name,
        "SELECT * FROM secrets WHERE deployment = ? AND name = ?", s -> {
          s.setString(1, deployment);
          s.setString(2, name);
        }, SecretStore::read);
  }

  /** True when the secret existed. Its version counter is kept. */
  public boolean delete(String deployment, String name) {
    return jdbc.update("delete secret " + deployment + "/" + name,
        "DELETE FROM secrets WHERE deployment = ? AND name = ?", s -> {
          s.setString(1, deployment);
          s.setString(2, name);
        }) > 0;
  }

  private static SecretRecord read(ResultSet r) throws SQLException {
    return new SecretRecord(r.getString("deployment"), r.getString("name"), r.getLong("version"),
        r.getBytes("value_sealed"), r.getBytes("data_key_sealed"), r.getString("set_by"),
        r.getTimestamp("set_at").toInstant());
  }
}
