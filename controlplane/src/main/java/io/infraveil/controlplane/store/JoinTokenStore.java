package io.infraveil.controlplane.store;

import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/** Join tokens, stored by hash only. Consuming one is a single conditional update. */
@Singleton
public final class JoinTokenStore {

  /** One token row. */
  public record JoinTokenRecord(String tokenHash, String hostName, Map<String, String> labels,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt) {}

  private final DataSource dataSource;

  public JoinTokenStore(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  public void insert(JoinTokenRecord token) {
    String sql = "INSERT INTO join_tokens (token_hash, host_name, labels_json, created_by, created_at,"
        + " expires_at) VALUES (?, ?, ?, ?, ?, ?)";
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, token.tokenHash());
      s.setString(2, token.hostName());
      s.setString(3, Labels.toJson(token.labels()));
      s.setString(4, token.createdBy());
      s.setTimestamp(5, Timestamp.from(token.createdAt()));
      s.setTimestamp(6, Timestamp.from(token.expiresAt()));
      s.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot store a join token for " + token.hostName(), e);
    }
  }

  public Optional<JoinTokenRecord> find(String tokenHash) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement("SELECT * FROM join_tokens WHERE token_hash = ?")) {
      s.setString(1, tokenHash);
      try (ResultSet r = s.executeQuery()) {
        if (!r.next()) {
          return Optional.empty();
        }
        Timestamp used = r.getTimestamp("used_at");
        return Optional.of(new JoinTokenRecord(r.getString("token_hash"), r.getString("host_name"),
            Labels.fromJson(r.getString("labels_json")), r.getString("created_by"),
            r.getTimestamp("created_at").toInstant(), r.getTimestamp("expires_at").toInstant(),
            used == null ? null : used.toInstant()));
      }
    } catch (SQLException e) {
      throw new StoreException("cannot read a join token", e);
    }
  }

  /** Marks the token used; false if somebody else used it first. */
  public boolean consume(String tokenHash, Instant at) {
    String sql = "UPDATE join_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL";
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      s.setTimestamp(1, Timestamp.from(at));
      s.setString(2, tokenHash);
      return s.executeUpdate() == 1;
    } catch (SQLException e) {
      throw new StoreException("cannot consume a join token", e);
    }
  }
}
