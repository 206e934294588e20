package io.infraveil.controlplane.store;

import io.infraveil.payload.Sha256Hex;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * Security events: refused calls, bad join tokens, revoked certificates seen, rejected payloads.
 * Identical events from one caller within one minute share a row and are counted, so a caller
 * that retries a refused call forever adds at most one row per minute; rows are pruned with
 * history ({@code HistoryStore.pruneBefore}).
 */
@Singleton
public final class SecurityEventStore {

  /**
   * One event row: the first occurrence's time and peer, how many identical occurrences the
   * caller caused within that minute, and the latest one's time.
   */
  public record SecurityEventRecord(Instant at, String kind, String identity, String method,
      String message, String peer, int occurrences, Instant lastAt) {

    /** A single occurrence. */
    public SecurityEventRecord(Instant at, String kind, String identity, String method, String message,
        String peer) {
      this(at, kind, identity, method, message, peer, 1, at);
    }

    /** The same event as the {@code occurrences}-th of its row. */
    public SecurityEventRecord counted(int occurrences) {
      return new SecurityEventRecord(at, kind, identity, method, message, peer, occurrences, lastAt);
    }
  }

  private static final int MAX_MESSAGE = 2000;

  private final Jdbc jdbc;

  public SecurityEventStore(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  /**
   * Adds the event to the row of its caller, kind, method and message in its minute, or starts
   * that row; returns how many occurrences the row now counts (1 for a new row).
   */
  public synchronized int record(SecurityEventRecord event) {
    Instant minute = event.at().truncatedTo(ChronoUnit.MINUTES);
    String fingerprint = fingerprint(event);
    int counted = increment(minute, fingerprint, event.at());
    if (counted > 0) {
      return counted;
    }
    try {
      jdbc.update("record security event " + event.kind(),
          "INSERT INTO security_events (at, kind, identity, method, message, peer, occurrences, last_at,"
              + " minute_at, fingerprint) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
          s -> {
            s.setTimestamp(1, Timestamp.from(event.at()));
            s.setString(2, event.kind());
            s.setString(3, event.identity());
            s.setString(4, event.method());
            s.setString(5, truncate(event.message(), MAX_MESSAGE));
            s.setString(6, event.peer());
            s.setTimestamp(7, Timestamp.from(event.at()));
            s.setTimestamp(8, Timestamp.from(minute));
            s.setString(9, fingerprint);
          });
      return 1;
    } catch (StoreException e) {
      // Another writer (a replica) started the row first: count this one on it.
      if (e.getCause() instanceof SQLException sql && "23505".equals(sql.getSQLState())) {
        return Math.max(1, increment(minute, fingerprint, event.at()));
      }
      throw e;
    }
  }

  private int increment(Instant minute, String fingerprint, Instant at) {
    int updated = jdbc.update("count a repeated security event",
        "UPDATE security_events SET occurrences = occurrences + 1, last_at = GREATEST(last_at, ?)"
            + " WHERE minute_at = ? AND fingerprint = ?",
        s -> {
          s.setTimestamp(1, Timestamp.from(at));
          s.setTimestamp(2, Timestamp.from(minute));
          s.setString(3, fingerprint);
        });
    if (updated == 0) {
      return 0;
    }
    return jdbc.queryOne("read a security event count",
        "SELECT occurrences FROM security_events WHERE minute_at = ? AND fingerprint = ?",
        s -> {
          s.setTimestamp(1, Timestamp.from(minute));
          s.setString(2, fingerprint);
        }, r -> r.getInt(1)).orElse(1);
  }

  public List<SecurityEventRecord> recent(int limit) {
    return jdbc.query("list security events", "SELECT * FROM security_events ORDER BY id DESC LIMIT ?",
        s -> s.setInt(1, limit),
        r -> {
          Timestamp last = r.getTimestamp("last_at");
          Instant at = r.getTimestamp("at").toInstant();
          return new SecurityEventRecord(at, r.getString("kind"), r.getString("identity"),
              r.getString("method"), r.getString("message"), r.getString("peer"), r.getInt("occurrences"),
              last == null ? at : last.toInstant());
        });
  }

  /** Rows in the table, for tests and metrics. */
  public long rowCount() {
    return jdbc.queryOne("count security events", "SELECT COUNT(*) FROM security_events", s -> {},
        r -> r.getLong(1)).orElse(0L);
  }

  /**
   * What makes two events one refusal: kind and caller. The caller is the identity, else the
   * peer's address without its port (a retry comes from a new port). Method and message are
   * left out on purpose: a revoked host is refused on every stream it has (Sync, Heartbeat,
   * ShipLogs, Fetch), and each retry of each is the same refusal; the row keeps the first
   * occurrence's method and message.
   */
  static String fingerprint(SecurityEventRecord event) {
    String caller = event.identity() != null && !event.identity().isEmpty()
        ? event.identity()
        : "address " + addressOf(event.peer());
    String key = event.kind() + '\0' + caller;
    return Sha256Hex.format(Sha256Hex.newDigest().digest(key.getBytes(StandardCharsets.UTF_8)));
  }

  private static String addressOf(String peer) {
    if (peer == null || peer.isEmpty()) {
      return "";
    }
    String address = peer.startsWith("/") ? peer.substring(1) : peer;
    int colon = address.lastIndexOf(':');
    return colon > 0 ? address.substring(0, colon) : address;
  }

  private static String truncate(String text, int max) {
    return text == null || text.length() <= max ? text : text.substring(0, max);
  }
}
