package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.store.Jdbc;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The {@code control_plane_replicas} table: each replica writes its own row (address, role,
 * hosts held) every heartbeat interval with the database's clock, and every replica reads all
 * rows. A row not refreshed for {@code replica-gone-after}, or marked stopped, is gone.
 */
public final class ReplicaRegistry {

  /** One replica's row; {@code gone} by the database's clock. */
  public record Row(String name, String grpcAddress, String role, int hostsHeld, String instanceId,
      Instant startedAt, Instant seenAt, boolean gone) {}

  static final String STOPPED = "stopped";
  /** Rows of replicas gone for this long are deleted. */
  static final Duration FORGET_AFTER = Duration.ofDays(1);

  private final Jdbc jdbc;
  private final String list;

  public ReplicaRegistry(Jdbc jdbc, Duration goneAfter) {
    this.jdbc = Objects.requireNonNull(jdbc, "jdbc");
    this.list = "SELECT name, grpc_address, role, hosts_held, instance_id, started_at, seen_at,"
        + " CASE WHEN role = '" + STOPPED + "' OR seen_at < CURRENT_TIMESTAMP - " + ReplicaSettings.sqlSeconds(goneAfter)
        + " THEN 1 ELSE 0 END AS gone FROM control_plane_replicas ORDER BY name";
  }

  /**
   * Writes this replica's row; {@code starting} also sets its start time (and replaces the row
   * a previous process of the same name left).
   */
  public void heartbeat(String name, String grpcAddress, String role, int hostsHeld, String instanceId,
      boolean starting) {
    int updated = jdbc.update("refresh replica " + name, "UPDATE control_plane_replicas SET grpc_address = ?,"
        + " role = ?, hosts_held = ?, instance_id = ?, seen_at = CURRENT_TIMESTAMP"
        + (starting ? ", started_at = CURRENT_TIMESTAMP" : "") + " WHERE name = ?", s -> {
          s.setString(1, grpcAddress);
          s.setString(2, role);
          s.setInt(3, hostsHeld);
          s.setString(4, instanceId);
          s.setString(5, name);
        });
    if (updated == 0) {
      jdbc.update("register replica " + name, "INSERT INTO control_plane_replicas (name, grpc_address, role,"
          + " hosts_held, instance_id, started_at, seen_at) VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
          s -> {
            s.setString(1, name);
            s.setString(2, grpcAddress);
            s.setString(3, role);
            s.setInt(4, hostsHeld);
            s.setString(5, instanceId);
          });
    }
  }

  /** Marks this replica stopped, so it shows as gone at once. */
  public void stopped(String name, String instanceId) {
    jdbc.update("mark replica " + name + " stopped", "UPDATE control_plane_replicas SET role = '" + STOPPED
        + "', hosts_held = 0, seen_at = CURRENT_TIMESTAMP WHERE name = ? AND instance_id = ?", s -> {
          s.setString(1, name);
          s.setString(2, instanceId);
        });
  }

  /** Every replica, by name. */
  public List<Row> all() {
    return jdbc.query("list control-plane replicas", list, s -> { }, r -> new Row(r.getString("name"),
        r.getString("grpc_address"), r.getString("role"), r.getInt("hosts_held"), r.getString("instance_id"),
        instant(r.getTimestamp("started_at")), instant(r.getTimestamp("seen_at")), r.getInt("gone") == 1));
  }

  /** Forgets replicas gone for a day (leader work); returns rows deleted. */
  public int forgetLongGone() {
    return jdbc.update("forget long-gone replicas", "DELETE FROM control_plane_replicas WHERE seen_at < "
        + "CURRENT_TIMESTAMP - " + ReplicaSettings.sqlSeconds(FORGET_AFTER), s -> { });
  }

  private static Instant instant(Timestamp t) {
    return t == null ? Instant.EPOCH : t.toInstant();
  }
}
