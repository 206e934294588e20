package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.store.Jdbc;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The leader lease: one row of {@code control_plane_lease}, taken and renewed by one
 * compare-and-set on (holder, expires_at) in which every time is the database's
 * {@code CURRENT_TIMESTAMP}, so the replicas' own clocks never decide who leads. The term
 * grows whenever the lease changes hands (or lapses and is taken again).
 */
public final class LeaderLease {

  /** Who holds the lease by the database's clock; {@code live} is false once it expired. */
  public record Holder(String name, long term, Instant acquiredAt, Instant expiresAt, boolean live) {}

  private static final String ROW = "leader";

  private final Jdbc jdbc;
  private final String take;
  private final String takeOver;

  public LeaderLease(Jdbc jdbc, Duration ttl) {
    this.jdbc = Objects.requireNonNull(jdbc, "jdbc");
    String live = "(holder = ? AND expires_at > CURRENT_TIMESTAMP)";
    // Every SET expression reads the row as it was, so the term moves only on a change of hands.
    this.take = "UPDATE control_plane_lease SET"
        + " term = CASE WHEN " + live + " THEN term ELSE term + 1 END,"
        + " acquired_at = CASE WHEN " + live + " THEN acquired_at ELSE CURRENT_TIMESTAMP END,"
        + " holder = ?,"
        + " expires_at = CURRENT_TIMESTAMP + " + ReplicaSettings.sqlSeconds(ttl)
        + " WHERE name = '" + ROW + "' AND (holder = ? OR holder IS NULL OR expires_at <= CURRENT_TIMESTAMP)";
    this.takeOver = "UPDATE control_plane_lease SET term = term + 1, acquired_at = CURRENT_TIMESTAMP, holder = ?,"
        + " expires_at = CURRENT_TIMESTAMP + " + ReplicaSettings.sqlSeconds(ttl) + " WHERE name = '" + ROW + "'";
  }

  /**
   * Takes the lease for {@code holder} or renews it; the term held, or empty when another
   * replica's lease is still live. A renewal keeps the term; a take moves it on.
   */
  public Optional<Long> takeOrRenew(String holder) {
    return jdbc.inTransaction("take or renew the leader lease for " + holder, c -> {
      int updated;
      try (PreparedStatement s = c.prepareStatement(take)) {
        s.setString(1, holder);
        s.setString(2, holder);
        s.setString(3, holder);
        s.setString(4, holder);
        updated = s.executeUpdate();
      }
      if (updated == 0) {
        return Optional.<Long>empty();
      }
      try (PreparedStatement s = c.prepareStatement("SELECT term FROM control_plane_lease WHERE name = '" + ROW + "'");
          ResultSet r = s.executeQuery()) {
        r.next();
        return Optional.of(r.getLong(1));
      }
    });
  }

  /**
   * Takes the lease for {@code holder} whoever holds it, with a new term. Only for a database
   * that admits one process (an embedded H2 file): any other holder there is dead.
   */
  public long takeOver(String holder) {
    return jdbc.inTransaction("take over the leader lease for " + holder, c -> {
      try (PreparedStatement s = c.prepareStatement(takeOver)) {
        s.setString(1, holder);
        s.executeUpdate();
      }
      try (PreparedStatement s = c.prepareStatement("SELECT term FROM control_plane_lease WHERE name = '" + ROW + "'");
          ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    });
  }

  /** Ends {@code holder}'s lease now, so another replica takes it at its next attempt. */
  public void release(String holder) {
    jdbc.update("release the leader lease of " + holder,
        "UPDATE control_plane_lease SET expires_at = CURRENT_TIMESTAMP WHERE name = '" + ROW + "' AND holder = ?",
        s -> s.setString(1, holder));
  }

  /** The current holder, if the lease was ever taken. */
  public Optional<Holder> current() {
    return jdbc.queryOne("read the leader lease",
        "SELECT holder, term, acquired_at, expires_at,"
            + " CASE WHEN expires_at > CURRENT_TIMESTAMP THEN 1 ELSE 0 END AS live"
            + " FROM control_plane_lease WHERE name = '" + ROW + "' AND holder IS NOT NULL",
        s -> { },
        r -> new Holder(r.getString("holder"), r.getLong("term"), instant(r.getTimestamp("acquired_at")),
            instant(r.getTimestamp("expires_at")), r.getInt("live") == 1));
  }

  private static Instant instant(Timestamp t) {
    return t == null ? Instant.EPOCH : t.toInstant();
  }
}
