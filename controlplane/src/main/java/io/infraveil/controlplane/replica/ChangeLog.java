package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.store.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The {@code change_log} table (V13). Appending in the writer's transaction makes the change
 * visible exactly when what it announces is; on PostgreSQL the same transaction sends a NOTIFY
 * on {@link #CHANNEL}, which the database delivers at commit.
 */
final class ChangeLog {

  /** The PostgreSQL notification channel the replicas listen on. */
  static final String CHANNEL = "infraveil_changes";

  private static final int MAX_DETAIL = 2000;
  private static final int MAX_SUBJECT = 255;

  private final Jdbc jdbc;
  private final Engine engine;

  ChangeLog(Jdbc jdbc, Engine engine) {
    this.jdbc = Objects.requireNonNull(jdbc, "jdbc");
    this.engine = Objects.requireNonNull(engine, "engine");
  }

  Engine engine() {
    return engine;
  }

  /** Appends within the caller's transaction (committed, and notified, with it). */
  void append(Connection c, ChangeKind kind, String subject, String detail, String origin, Instant at)
      throws SQLException {
    if (kind == ChangeKind.UNKNOWN) {
      throw new IllegalArgumentException("UNKNOWN is what a reader makes of a kind it does not know, never written");
    }
    try (PreparedStatement s = c.prepareStatement(
        "INSERT INTO change_log (kind, subject, detail, origin, created_at) VALUES (?, ?, ?, ?, ?)")) {
      s.setString(1, kind.name());
      s.setString(2, clip(subject, MAX_SUBJECT));
      s.setString(3, detail == null ? null : clip(detail, MAX_DETAIL));
      s.setString(4, origin);
      s.setTimestamp(5, Timestamp.from(at));
      s.executeUpdate();
    }
    if (engine == Engine.POSTGRESQL) {
      // The payload only wakes the listeners; they read the rows, so nothing depends on it.
      try (PreparedStatement s = c.prepareStatement("SELECT pg_notify(?, ?)")) {
        s.setString(1, CHANNEL);
        s.setString(2, kind.name());
        s.execute();
      }
    }
  }

  /** One row of a batch: its subject and detail. */
  record Entry(String subject, String detail) {}

  /** Appends many rows of one kind within the caller's transaction, in one batch, with one NOTIFY. */
  void appendAll(Connection c, ChangeKind kind, List<Entry> entries, String origin, Instant at) throws SQLException {
    if (entries.isEmpty()) {
      return;
    }
    try (PreparedStatement s = c.prepareStatement(
        "INSERT INTO change_log (kind, subject, detail, origin, created_at) VALUES (?, ?, ?, ?, ?)")) {
      for (Entry entry : entries) {
        s.setString(1, kind.name());
        s.setString(2, clip(entry.subject(), MAX_SUBJECT));
        s.setString(3, entry.detail() == null ? null : clip(entry.detail(), MAX_DETAIL));
        s.setString(4, origin);
        s.setTimestamp(5, Timestamp.from(at));
        s.addBatch();
      }
      s.executeBatch();
    }
    notifyWithin(c, kind);
  }

  private void notifyWithin(Connection c, ChangeKind kind) throws SQLException {
    if (engine == Engine.POSTGRESQL) {
      try (PreparedStatement s = c.prepareStatement("SELECT pg_notify(?, ?)")) {
        s.setString(1, CHANNEL);
        s.setString(2, kind.name());
        s.execute();
      }
    }
  }

  /** Appends in a transaction of its own. */
  void append(ChangeKind kind, String subject, String detail, String origin, Instant at) {
    jdbc.inTransaction("record a " + kind + " change of " + subject, c -> {
      append(c, kind, subject, detail, origin, at);
      return null;
    });
  }

  /** Changes with an id above {@code after}, oldest first, at most {@code limit}. */
  List<Change> after(long after, int limit) {
    return jdbc.query("read the change log after " + after,
        "SELECT id, kind, subject, detail, origin, created_at FROM change_log WHERE id > ? ORDER BY id"
            + " FETCH FIRST " + limit + " ROWS ONLY",
        s -> s.setLong(1, after),
        r -> new Change(r.getLong(1), ChangeKind.parse(r.getString(2)), r.getString(3), r.getString(4),
            r.getString(5), r.getTimestamp(6).toInstant()));
  }

  /** The highest id written so far (0 when empty): a new reader starts after it. */
  long lastId() {
    return jdbc.queryOne("read the end of the change log", "SELECT MAX(id) FROM change_log", s -> {},
        r -> r.getLong(1)).orElse(0L);
  }

  int pruneBefore(Instant cutoff) {
    return jdbc.update("prune the change log", "DELETE FROM change_log WHERE created_at < ?",
        s -> s.setTimestamp(1, Timestamp.from(cutoff)));
  }

  private static String clip(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max);
  }
}
