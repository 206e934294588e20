package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.store.Jdbc;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The {@code host_presence} and {@code agent_presence} tables (V13): which replica holds each
 * host, and the last reports, written in batches by the replica that received them. A write
 * never takes a host from the replica holding it now with older facts: a replica whose stream
 * closed updates the row only while it is still its own, or when its facts are newer.
 */
final class PresenceStore {

  /** One host as a replica stored it. */
  record HostRow(String host, String replica, boolean streamOpen, Instant connectedAt, Instant lastSeenAt,
      byte[] lastReport, Instant writtenAt) {}

  /** One agent's latest heartbeat as a replica stored it. */
  record AgentRow(String host, String deployment, String replica, Instant receivedAt, byte[] heartbeat,
      Instant writtenAt) {}

  private static final String HOST_UPSERT_POSTGRESQL = """
      INSERT INTO host_presence (host_name, replica, stream_open, connected_at, last_seen_at, last_report, written_at)
      VALUES (?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)
      ON CONFLICT (host_name) DO UPDATE SET replica = EXCLUDED.replica, stream_open = EXCLUDED.stream_open,
        connected_at = EXCLUDED.connected_at, last_seen_at = EXCLUDED.last_seen_at,
        last_report = EXCLUDED.last_report, written_at = EXCLUDED.written_at
      WHERE host_presence.replica = EXCLUDED.replica OR host_presence.last_seen_at <= EXCLUDED.last_seen_at""";

  private static final String HOST_UPSERT_H2 = """
      MERGE INTO host_presence t USING (VALUES (CAST(? AS VARCHAR(64)), CAST(? AS VARCHAR(255)),
        CAST(? AS BOOLEAN), CAST(? AS TIMESTAMP WITH TIME ZONE), CAST(? AS TIMESTAMP WITH TIME ZONE),
        CAST(? AS BYTEA))) AS v(host_name, replica, stream_open, connected_at, last_seen_at, last_report)
      ON t.host_name = v.host_name
      WHEN MATCHED AND (t.replica = v.replica OR t.last_seen_at <= v.last_seen_at) THEN UPDATE SET
        replica = v.replica, stream_open = v.stream_open, connected_at = v.connected_at,
        last_seen_at = v.last_seen_at, last_report = v.last_report, written_at = CURRENT_TIMESTAMP
      WHEN NOT MATCHED THEN INSERT (host_name, replica, stream_open, connected_at, last_seen_at, last_report,
        written_at) VALUES (v.host_name, v.replica, v.stream_open, v.connected_at, v.last_seen_at, v.last_report,
        CURRENT_TIMESTAMP)""";

  private static final String AGENT_UPSERT_POSTGRESQL = """
      INSERT INTO agent_presence (host_name, deployment, replica, received_at, heartbeat, written_at)
      VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP)
      ON CONFLICT (host_name, deployment) DO UPDATE SET replica = EXCLUDED.replica,
        received_at = EXCLUDED.received_at, heartbeat = EXCLUDED.heartbeat, written_at = EXCLUDED.written_at
      WHERE agent_presence.received_at <= EXCLUDED.received_at""";

  private static final String AGENT_UPSERT_H2 = """
      MERGE INTO agent_presence t USING (VALUES (CAST(? AS VARCHAR(64)), CAST(? AS VARCHAR(255)),
        CAST(? AS VARCHAR(255)), CAST(? AS TIMESTAMP WITH TIME ZONE), CAST(? AS BYTEA)))
        AS v(host_name, deployment, replica, received_at, heartbeat)
      ON t.host_name = v.host_name AND t.deployment = v.deployment
      WHEN MATCHED AND t.received_at <= v.received_at THEN UPDATE SET replica = v.replica,
        received_at = v.received_at, heartbeat = v.heartbeat, written_at = CURRENT_TIMESTAMP
      WHEN NOT MATCHED THEN INSERT (host_name, deployment, replica, received_at, heartbeat, written_at)
        VALUES (v.host_name, v.deployment, v.replica, v.received_at, v.heartbeat, CURRENT_TIMESTAMP)""";

  private final Jdbc jdbc;
  private final Engine engine;

  PresenceStore(Jdbc jdbc, Engine engine) {
    this.jdbc = Objects.requireNonNull(jdbc, "jdbc");
    this.engine = Objects.requireNonNull(engine, "engine");
  }

  /** Writes the rows of one batch in one transaction. */
  void write(List<HostRow> hosts, List<AgentRow> agents) {
    if (hosts.isEmpty() && agents.isEmpty()) {
      return;
    }
    jdbc.inTransaction("write the presence of " + hosts.size() + " host(s) and " + agents.size() + " agent(s)",
        c -> {
          if (!hosts.isEmpty()) {
            try (PreparedStatement s = c.prepareStatement(
                engine == Engine.POSTGRESQL ? HOST_UPSERT_POSTGRESQL : HOST_UPSERT_H2)) {
              for (HostRow row : hosts) {
                s.setString(1, row.host());
                s.setString(2, row.replica());
                s.setBoolean(3, row.streamOpen());
                s.setTimestamp(4, Timestamp.from(row.connectedAt()));
                s.setTimestamp(5, Timestamp.from(row.lastSeenAt()));
                if (row.lastReport() == null) {
                  s.setNull(6, Types.BINARY);
                } else {
                  s.setBytes(6, row.lastReport());
                }
                s.addBatch();
              }
              s.executeBatch();
            }
          }
          if (!agents.isEmpty()) {
            try (PreparedStatement s = c.prepareStatement(
                engine == Engine.POSTGRESQL ? AGENT_UPSERT_POSTGRESQL : AGENT_UPSERT_H2)) {
              for (AgentRow row : agents) {
                s.setString(1, row.host());
                s.setString(2, row.deployment());
                s.setString(3, row.replica());
                s.setTimestamp(4, Timestamp.from(row.receivedAt()));
                s.setBytes(5, row.heartbeat());
                s.addBatch();
              }
              s.executeBatch();
            }
          }
          return null;
        });
  }

  /** Hosts written by other replicas after {@code since} (the database's clock). */
  List<HostRow> hostsOfOthers(String replica, Instant since) {
    return jdbc.query("read the hosts other replicas hold",
        "SELECT host_name, replica, stream_open, connected_at, last_seen_at, last_report, written_at"
            + " FROM host_presence WHERE replica <> ? AND written_at > ?",
        s -> {
          s.setString(1, replica);
          s.setTimestamp(2, Timestamp.from(since));
        },
        r -> new HostRow(r.getString(1), r.getString(2), r.getBoolean(3), r.getTimestamp(4).toInstant(),
            r.getTimestamp(5).toInstant(), r.getBytes(6), r.getTimestamp(7).toInstant()));
  }

  /** Agents whose heartbeats other replicas wrote after {@code since}. */
  List<AgentRow> agentsOfOthers(String replica, Instant since) {
    return jdbc.query("read the agents that report to other replicas",
        "SELECT host_name, deployment, replica, received_at, heartbeat, written_at"
            + " FROM agent_presence WHERE replica <> ? AND written_at > ?",
        s -> {
          s.setString(1, replica);
          s.setTimestamp(2, Timestamp.from(since));
        },
        r -> new AgentRow(r.getString(1), r.getString(2), r.getString(3), r.getTimestamp(4).toInstant(),
            r.getBytes(5), r.getTimestamp(6).toInstant()));
  }

  /** Hosts whose stream {@code replica} holds and which reported since {@code freshAfter}. */
  int countHeldBy(String replica, Instant freshAfter) {
    return jdbc.queryOne("count the hosts replica " + replica + " holds",
        "SELECT COUNT(*) FROM host_presence WHERE replica = ? AND stream_open = TRUE AND last_seen_at > ?",
        s -> {
          s.setString(1, replica);
          s.setTimestamp(2, Timestamp.from(freshAfter));
        },
        r -> r.getInt(1)).orElse(0);
  }

  /** A revoked host is nobody's any more. */
  void forget(String host) {
    jdbc.update("forget the presence of host " + host, "DELETE FROM host_presence WHERE host_name = ?",
        s -> s.setString(1, host));
    jdbc.update("forget the agents of host " + host, "DELETE FROM agent_presence WHERE host_name = ?",
        s -> s.setString(1, host));
  }
}
