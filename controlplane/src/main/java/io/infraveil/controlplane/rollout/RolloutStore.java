package io.infraveil.controlplane.rollout;

import io.infraveil.controlplane.store.Jdbc;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Rollouts and their hosts (V7): the deployment history, and what a restart resumes. */
@Singleton
final class RolloutStore {

  private final Jdbc jdbc;

  RolloutStore(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  /** Stores a new rollout; returns it with its id. */
  Rollout insert(Rollout r) {
    return jdbc.inTransaction("store the rollout of " + r.deployment(), c -> {
      long id;
      try (PreparedStatement s = c.prepareStatement("INSERT INTO rollouts (deployment, origin, payload_sha256,"
          + " sequence, generation, version_label, revert_sha256, revert_sequence,"
          + " revert_signatures, revert_label, max_parallel, canary, min_healthy_ms, healthy_deadline_ms,"
          + " auto_promote, auto_revert, state, promoted, batch, reason, started_by, started_at, finished_at)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          Statement.RETURN_GENERATED_KEYS)) {
        s.setString(1, r.deployment());
        s.setString(2, r.origin());
        s.setString(3, r.target().sha256());
        s.setLong(4, r.target().sequence());
        s.setLong(5, r.generation());
        s.setString(6, r.target().label());
        if (r.revertTo() == null) {
          s.setNull(7, Types.CHAR);
          s.setNull(8, Types.BIGINT);
          s.setNull(9, Types.VARBINARY);
          s.setNull(10, Types.VARCHAR);
        } else {
          s.setString(7, r.revertTo().sha256());
          s.setLong(8, r.revertTo().sequence());
          s.setBytes(9, r.revertTo().signatures());
          s.setString(10, r.revertTo().label());
        }
        s.setInt(11, r.strategy().maxParallel());
        s.setInt(12, r.strategy().canary());
        s.setLong(13, r.strategy().minHealthyTime().toMillis());
        s.setLong(14, r.strategy().healthyDeadline().toMillis());
        s.setBoolean(15, r.strategy().autoPromote());
        s.setBoolean(16, r.strategy().autoRevert());
        bindProgress(s, 17, r);
        s.setString(21, r.startedBy());
        s.setTimestamp(22, Timestamp.from(r.startedAt()));
        setInstant(s, 23, r.finishedAt());
        s.executeUpdate();
        try (ResultSet keys = s.getGeneratedKeys()) {
          keys.next();
          id = keys.getLong("id"); // H2 returns the key alone, PostgreSQL the whole row
        }
      }
      Rollout stored = r.withId(id);
      writeHosts(c, stored.id(), stored.hosts(), true);
      return stored;
    });
  }

  /** Stores a rollout's progress and its hosts. */
  void update(Rollout r) {
    update(null, r);
  }

  /**
   * Stores a rollout's progress and, of its hosts, those whose entry differs from
   * {@code before} (what was stored last; null writes every host): a round that moves one host
   * of 10,000 writes one host row.
   */
  void update(Rollout before, Rollout r) {
    jdbc.inTransaction("store the progress of rollout " + r.id(), c -> {
      try (PreparedStatement s = c.prepareStatement("UPDATE rollouts SET state = ?, promoted = ?, batch = ?,"
          + " reason = ?, finished_at = ? WHERE id = ?")) {
        bindProgress(s, 1, r);
        setInstant(s, 5, r.finishedAt());
        s.setLong(6, r.id());
        s.executeUpdate();
      }
      // Hosts that left the rollout (no longer targeted) leave its rows too.
      List<String> stored = new ArrayList<>();
      try (PreparedStatement s = c.prepareStatement("SELECT host_name FROM rollout_hosts WHERE rollout_id = ?")) {
        s.setLong(1, r.id());
        try (ResultSet rows = s.executeQuery()) {
          while (rows.next()) {
            stored.add(rows.getString(1));
          }
        }
      }
      java.util.Set<String> kept = new java.util.HashSet<>();
      r.hosts().forEach(h -> kept.add(h.host()));
      stored.removeIf(kept::contains);
      try (PreparedStatement s = c.prepareStatement(
          "DELETE FROM rollout_hosts WHERE rollout_id = ? AND host_name = ?")) {
        for (String gone : stored) {
          s.setLong(1, r.id());
          s.setString(2, gone);
          s.addBatch();
        }
        s.executeBatch();
      }
      List<RolloutHostEntry> changed = r.hosts();
      if (before != null && before.id() == r.id()) {
        java.util.Map<String, RolloutHostEntry> was = before.hostsByName();
        changed = r.hosts().stream().filter(h -> !h.equals(was.get(h.host()))).toList();
      }
      writeHosts(c, r.id(), changed, false);
      return null;
    });
  }

  /** The latest rollout of every deployment that has one. */
  List<Rollout> latestPerDeployment() {
    List<Rollout> rows = jdbc.query("read the latest rollouts", "SELECT * FROM rollouts r WHERE id ="
        + " (SELECT MAX(id) FROM rollouts WHERE deployment = r.deployment) ORDER BY deployment",
        s -> {}, RolloutStore::readRollout);
    return withHosts(rows);
  }

  /** A deployment's rollouts, newest first. */
  List<Rollout> history(String deployment, int limit) {
    List<Rollout> rows = jdbc.query("read the history of " + deployment,
        "SELECT * FROM rollouts WHERE deployment = ? ORDER BY id DESC LIMIT ?",
        s -> {
          s.setString(1, deployment);
          s.setInt(2, limit);
        }, RolloutStore::readRollout);
    return withHosts(rows);
  }

  Optional<Rollout> latest(String deployment) {
    return history(deployment, 1).stream().findFirst();
  }

  private List<Rollout> withHosts(List<Rollout> rows) {
    List<Rollout> out = new ArrayList<>();
    for (Rollout r : rows) {
      List<RolloutHostEntry> hosts = jdbc.query("read the hosts of rollout " + r.id(),
          "SELECT * FROM rollout_hosts WHERE rollout_id = ? ORDER BY position",
          s -> s.setLong(1, r.id()), RolloutStore::readHost);
      out.add(r.withHosts(hosts));
    }
    return out;
  }

  private static void bindProgress(PreparedStatement s, int first, Rollout r) throws SQLException {
    s.setString(first, r.phase().name());
    s.setBoolean(first + 1, r.promoted());
    s.setInt(first + 2, r.batch());
    s.setString(first + 3, clip(r.reason()));
  }

  private static void writeHosts(Connection c, long rolloutId, List<RolloutHostEntry> hosts, boolean insert)
      throws SQLException {
    if (hosts.isEmpty()) {
      return;
    }
    String sql = insert
        ? "INSERT INTO rollout_hosts (state, batch, canary, moved_at, healthy_since, finished_at, detail,"
            + " from_entry, position, rollout_id, host_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        : "UPDATE rollout_hosts SET state = ?, batch = ?, canary = ?, moved_at = ?, healthy_since = ?,"
            + " finished_at = ?, detail = ? WHERE rollout_id = ? AND host_name = ?";
    try (PreparedStatement s = c.prepareStatement(sql)) {
      for (RolloutHostEntry h : hosts) {
        s.setString(1, h.phase().name());
        s.setInt(2, h.batch());
        s.setBoolean(3, h.canary());
        setInstant(s, 4, h.movedAt());
        setInstant(s, 5, h.healthySince());
        setInstant(s, 6, h.finishedAt());
        s.setString(7, clip(h.detail()));
        int next = 8;
        if (insert) {
          s.setBytes(next++, h.fromEntry());
          s.setInt(next++, h.position());
        }
        s.setLong(next++, rolloutId);
        s.setString(next, h.host());
        s.addBatch();
      }
      s.executeBatch();
    }
  }

  private static Rollout readRollout(ResultSet r) throws SQLException {
    String revertSha = r.getString("revert_sha256");
    Rollout.Version revertTo = revertSha == null ? null : new Rollout.Version(revertSha,
        r.getLong("revert_sequence"), r.getBytes("revert_signatures"), r.getString("revert_label"));
    Strategy strategy = new Strategy(r.getInt("max_parallel"), r.getInt("canary"),
        Duration.ofMillis(r.getLong("min_healthy_ms")), Duration.ofMillis(r.getLong("healthy_deadline_ms")),
        r.getBoolean("auto_promote"), r.getBoolean("auto_revert"));
    return new Rollout(r.getLong("id"), r.getString("deployment"), r.getString("origin"),
        new Rollout.Version(r.getString("payload_sha256"), r.getLong("sequence"), null,
            r.getString("version_label")),
        r.getLong("generation"), revertTo, strategy, Phase.valueOf(r.getString("state")),
        r.getBoolean("promoted"), r.getInt("batch"), r.getString("reason"), r.getString("started_by"),
        instant(r, "started_at"), instant(r, "finished_at"), List.of());
  }

  private static RolloutHostEntry readHost(ResultSet r) throws SQLException {
    return new RolloutHostEntry(r.getString("host_name"), r.getInt("position"),
        HostPhase.valueOf(r.getString("state")), r.getInt("batch"), r.getBoolean("canary"),
        r.getBytes("from_entry"), instant(r, "moved_at"), instant(r, "healthy_since"),
        instant(r, "finished_at"), r.getString("detail"));
  }

  private static Instant instant(ResultSet r, String column) throws SQLException {
    Timestamp t = r.getTimestamp(column);
    return t == null ? null : t.toInstant();
  }

  private static void setInstant(PreparedStatement s, int index, Instant at) throws SQLException {
    if (at == null) {
      s.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
    } else {
      s.setTimestamp(index, Timestamp.from(at));
    }
  }

  private static String clip(String text) {
    return text == null || text.length() <= 2000 ? text : text.substring(0, 1997) + "...";
  }
}
