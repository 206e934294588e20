package io.infraveil.controlplane.store;

import jakarta.inject.Singleton;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/** Security events: refused calls, bad join tokens, revoked certificates seen, rejected payloads. */
@Singleton
public final class SecurityEventStore {

  /** One event. */
  public record SecurityEventRecord(Instant at, String kind, String identity, String method,
      String message, String peer) {}

  private final Jdbc jdbc;

  public SecurityEventStore(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  public void insert(SecurityEventRecord event) {
    jdbc.update("record security event " + event.kind(),
        "INSERT INTO security_events (at, kind, identity, method, message, peer) VALUES (?, ?, ?, ?, ?, ?)",
        s -> {
          s.setTimestamp(1, Timestamp.from(event.at()));
          s.setString(2, event.kind());
          s.setString(3, event.identity());
          s.setString(4, event.method());
          s.setString(5, truncate(event.message(), 2000));
          s.setString(6, event.peer());
        });
  }

  public List<SecurityEventRecord> recent(int limit) {
    return jdbc.query("list security events", "SELECT * FROM security_events ORDER BY id DESC LIMIT ?",
        s -> s.setInt(1, limit),
        r -> new SecurityEventRecord(r.getTimestamp("at").toInstant(), r.getString("kind"),
            r.getString("identity"), r.getString("method"), r.getString("message"), r.getString("peer")));
  }

  private static String truncate(String text, int max) {
    return text == null || text.length() <= max ? text : text.substring(0, max);
  }
}
