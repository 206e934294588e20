package io.infraveil.controlplane.store;

import jakarta.inject.Singleton;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/** Join tokens, stored by hash only. Consuming one is a single conditional update. */
@Singleton
public final class JoinTokenStore {

  /** One token row. */
  public record JoinTokenRecord(String tokenHash, String hostName, Map<String, String> labels,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt, boolean replace,
      Instant supersededAt) {}

  private final Jdbc jdbc;

  public JoinTokenStore(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  /**
   * Stores a new token and supersedes every older unused token for the same host name, in one
   * transaction: only the newest token of a name can enroll it. Returns how many were superseded.
   */
  public int insertSuperseding(JoinTokenRecord token) {
    return jdbc.inTransaction("store a join token for " + token.hostName(), c -> {
      int superseded;
      try (var s = c.prepareStatement("UPDATE join_tokens SET superseded_at = ?"
          + " WHERE host_name = ? AND used_at IS NULL AND superseded_at IS NULL")) {
        s.setTimestamp(1, Timestamp.from(token.createdAt()));
        s.setString(2, token.hostName());
        superseded = s.executeUpdate();
      }
      try (var s = c.prepareStatement("INSERT INTO join_tokens (token_hash, host_name, labels_json,"
          + " created_by, created_at, expires_at, replace_existing) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
        s.setString(1, token.tokenHash());
        s.setString(2, token.hostName());
        s.setString(3, Labels.toJson(token.labels()));
        s.setString(4, token.createdBy());
        s.setTimestamp(5, Timestamp.from(token.createdAt()));
        s.setTimestamp(6, Timestamp.from(token.expiresAt()));
        s.setBoolean(7, token.replace());
        s.executeUpdate();
      }
      return superseded;
    });
  }

  public Optional<JoinTokenRecord> find(String tokenHash) {
    return jdbc.queryOne("read a join token", "SELECT * FROM join_tokens WHERE token_hash = ?",
        s -> s.setString(1, tokenHash),
        r -> {
          Timestamp used = r.getTimestamp("used_at");
          Timestamp superseded = r.getTimestamp("superseded_at");
          return new JoinTokenRecord(r.getString("token_hash"), r.getString("host_name"),
              Labels.fromJson(r.getString("labels_json")), r.getString("created_by"),
              r.getTimestamp("created_at").toInstant(), r.getTimestamp("expires_at").toInstant(),
              used == null ? null : used.toInstant(), r.getBoolean("replace_existing"),
              superseded == null ? null : superseded.toInstant());
        });
  }

  /** Marks the token used; false if somebody else used it first or a newer token superseded it. */
  public boolean consume(String tokenHash, Instant at) {
    return jdbc.update("consume a join token",
        "UPDATE join_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL"
            + " AND superseded_at IS NULL",
        s -> {
          s.setTimestamp(1, Timestamp.from(at));
          s.setString(2, tokenHash);
        }) == 1;
  }
}
