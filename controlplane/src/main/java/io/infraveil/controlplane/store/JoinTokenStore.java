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
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt) {}

  private final Jdbc jdbc;

  public JoinTokenStore(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  public void insert(JoinTokenRecord token) {
    jdbc.update("store a join token for " + token.hostName(),
        "INSERT INTO join_tokens (token_hash, host_name, labels_json, created_by, created_at, expires_at)"
            + " VALUES (?, ?, ?, ?, ?, ?)",
        s -> {
          s.setString(1, token.tokenHash());
          s.setString(2, token.hostName());
          s.setString(3, Labels.toJson(token.labels()));
          s.setString(4, token.createdBy());
          s.setTimestamp(5, Timestamp.from(token.createdAt()));
          s.setTimestamp(6, Timestamp.from(token.expiresAt()));
        });
  }

  public Optional<JoinTokenRecord> find(String tokenHash) {
    return jdbc.queryOne("read a join token", "SELECT * FROM join_tokens WHERE token_hash = ?",
        s -> s.setString(1, tokenHash),
        r -> {
          Timestamp used = r.getTimestamp("used_at");
          return new JoinTokenRecord(r.getString("token_hash"), r.getString("host_name"),
              Labels.fromJson(r.getString("labels_json")), r.getString("created_by"),
              r.getTimestamp("created_at").toInstant(), r.getTimestamp("expires_at").toInstant(),
              used == null ? null : used.toInstant());
        });
  }

  /** Marks the token used; false if somebody else used it first. */
  public boolean consume(String tokenHash, Instant at) {
    return jdbc.update("consume a join token",
        "UPDATE join_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
        s -> {
          s.setTimestamp(1, Timestamp.from(at));
          s.setString(2, tokenHash);
        }) == 1;
  }
}
