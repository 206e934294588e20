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

/** Security events: refused calls, bad join tokens, revoked certificates seen, rejected payloads. */
@Singleton
public final class SecurityEventStore {

  /** One event. */
  public record SecurityEventRecord(Instant at, String kind, String identity, String method,
      String message, String peer) {}

  private final DataSource dataSource;

  public SecurityEventStore(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  public void insert(SecurityEventRecord event) {
    String sql = "INSERT INTO security_events (at, kind, identity, method, message, peer) VALUES (?, ?, ?, ?, ?, ?)";
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      s.setTimestamp(1, Timestamp.from(event.at()));
      s.setString(2, event.kind());
      s.setString(3, event.identity());
      s.setString(4, event.method());
      s.setString(5, truncate(event.message(), 2000));
      s.setString(6, event.peer());
      s.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot record security event " + event.kind(), e);
    }
  }

  public List<SecurityEventRecord> recent(int limit) {
    String sql = "SELECT * FROM security_events ORDER BY id DESC LIMIT ?";
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      s.setInt(1, limit);
      try (ResultSet r = s.executeQuery()) {
        List<SecurityEventRecord> out = new ArrayList<>();
        while (r.next()) {
          out.add(new SecurityEventRecord(r.getTimestamp("at").toInstant(), r.getString("kind"),
              r.getString("identity"), r.getString("method"), r.getString("message"), r.getString("peer")));
        }
        return out;
      }
    } catch (SQLException e) {
      throw new StoreException("cannot list security events", e);
    }
  }

  private static String truncate(String text, int max) {
    return text == null || text.length() <= max ? text : text.substring(0, max);
  }
}
