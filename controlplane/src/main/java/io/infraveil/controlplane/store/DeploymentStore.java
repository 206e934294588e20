package io.infraveil.controlplane.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Deployments, and the per-name sequence counter that only ever grows. The hosts a deployment
 * names are rows of {@code deployment_hosts} (V10), so their number has no cap of its own.
 */
@Singleton
public final class DeploymentStore {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static final String COLUMNS = "name, payload_sha256, sequence, previous_sha256,"
      + " previous_sequence, generation, labels_json, max_instances, paused, retry_marked_bad,"
      + " signatures, frozen_sha256, frozen_sequence, frozen_generation, updated_at";

  /**
   * One deployment.
   *
   * @param frozen what hosts keep running while the deployment is paused, else null
   */
  public record DeploymentRecord(String name, String payloadSha256, long sequence,
      String previousSha256, Long previousSequence, long generation, List<String> hosts,
      Map<String, String> labels, int maxInstances, boolean paused, boolean retryMarkedBad,
      byte[] signatures, Frozen frozen, Instant updatedAt) {}

  /** The running version kept by a paused deployment. */
  public record Frozen(String sha256, long sequence, long generation) {}

  private final Jdbc jdbc;

  public DeploymentStore(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  public List<DeploymentRecord> list() {
    Map<String, List<String>> hosts = new HashMap<>();
    jdbc.query("list the hosts of deployments",
        "SELECT deployment, host_name FROM deployment_hosts ORDER BY deployment, position", s -> {},
        r -> hosts.computeIfAbsent(r.getString(1), k -> new ArrayList<>()).add(r.getString(2)));
    return jdbc.query("list deployments", "SELECT * FROM deployments ORDER BY name", s -> {},
        r -> read(r, hosts.getOrDefault(r.getString("name"), List.of())));
  }

  public Optional<DeploymentRecord> find(String name) {
    List<String> hosts = hostsOf(name);
    return jdbc.queryOne("read deployment " + name, "SELECT * FROM deployments WHERE name = ?",
        s -> s.setString(1, name), r -> read(r, hosts));
  }

  private List<String> hostsOf(String name) {
    return jdbc.query("read the hosts of deployment " + name,
        "SELECT host_name FROM deployment_hosts WHERE deployment = ? ORDER BY position",
        s -> s.setString(1, name), r -> r.getString(1));
  }

  /**
   * Takes {@code wanted} as the deployment's sequence when it is above every sequence the name
   * had (a publisher chose it and signed it); returns the last sequence otherwise, untouched.
   */
  public OptionalLong claimSequence(String name, long wanted) {
    // One conditional UPDATE decides, as in nextSequence: two writers cannot both claim it.
    return jdbc.inTransaction("claim sequence " + wanted + " of " + name, c -> {
      for (int attempt = 1; ; attempt++) {
        try (PreparedStatement claim = c.prepareStatement("UPDATE deployment_sequences"
            + " SET last_sequence = ? WHERE name = ? AND last_sequence < ?")) {
          claim.setLong(1, wanted);
          claim.setString(2, name);
          claim.setLong(3, wanted);
          if (claim.executeUpdate() == 1) {
            return OptionalLong.empty();
          }
        }
        try (PreparedStatement select = c.prepareStatement(
            "SELECT last_sequence FROM deployment_sequences WHERE name = ?")) {
          select.setString(1, name);
          try (ResultSet r = select.executeQuery()) {
            if (r.next()) {
              return OptionalLong.of(r.getLong(1));
            }
          }
        }
        java.sql.Savepoint beforeInsert = c.setSavepoint();
        try (PreparedStatement insert = c.prepareStatement(
            "INSERT INTO deployment_sequences (name, last_sequence) VALUES (?, ?)")) {
          insert.setString(1, name);
          insert.setLong(2, wanted);
          insert.executeUpdate();
          c.releaseSavepoint(beforeInsert);
          return OptionalLong.empty();
        } catch (java.sql.SQLException e) {
          if (!"23505".equals(e.getSQLState()) || attempt > 1) {
            throw e;
          }
          c.rollback(beforeInsert); // another writer made the counter first: try the claim again
        }
      }
    });
  }

  /**
   * The next sequence number for a deployment name (never reused). One UPDATE increments it, so
   * two writers on two control planes never get the same number: a SELECT … FOR UPDATE followed
   * by a write gave both writers one number on H2 (it can read the value from before the other
   * writer's commit).
   */
  public long nextSequence(String name) {
    return jdbc.inTransaction("advance the sequence of " + name, c -> {
      for (int attempt = 1; ; attempt++) {
        try (PreparedStatement increment = c.prepareStatement(
            "UPDATE deployment_sequences SET last_sequence = last_sequence + 1 WHERE name = ?")) {
          increment.setString(1, name);
          if (increment.executeUpdate() == 1) {
            try (PreparedStatement select = c.prepareStatement(
                "SELECT last_sequence FROM deployment_sequences WHERE name = ?")) {
              select.setString(1, name);
              try (ResultSet r = select.executeQuery()) {
                r.next();
                return r.getLong(1);
              }
            }
          }
        }
        // A failed statement ends a PostgreSQL transaction unless rolled back to a savepoint.
        java.sql.Savepoint beforeInsert = c.setSavepoint();
        try (PreparedStatement insert = c.prepareStatement(
            "INSERT INTO deployment_sequences (name, last_sequence) VALUES (?, 1)")) {
          insert.setString(1, name);
          insert.executeUpdate();
          c.releaseSavepoint(beforeInsert);
          return 1L;
        } catch (java.sql.SQLException e) {
          if (!"23505".equals(e.getSQLState()) || attempt > 1) {
            throw e;
          }
          c.rollback(beforeInsert); // another writer made the counter first: increment it
        }
      }
    });
  }

  /** The version of the deployment's row, which every {@link #compareAndSet} grows; empty if none. */
  public OptionalLong rowVersion(String name) {
    return jdbc.queryOne("read the row version of deployment " + name,
        "SELECT row_version FROM deployments WHERE name = ?", s -> s.setString(1, name), r -> r.getLong(1))
        .map(OptionalLong::of).orElse(OptionalLong.empty());
  }

  /**
   * Stores {@code next} only if the deployment's row is still at {@code expected} (empty: no row
   * yet), and grows the row version; false, with nothing written, when another writer (another
   * control plane on this database) stored or created it in between.
   */
  public boolean compareAndSet(DeploymentRecord next, OptionalLong expected) {
    return jdbc.inTransaction("store deployment " + next.name(), c -> {
      if (expected.isPresent()) {
        try (PreparedStatement s = c.prepareStatement(
            "UPDATE deployments SET row_version = row_version + 1 WHERE name = ? AND row_version = ?")) {
          s.setString(1, next.name());
          s.setLong(2, expected.getAsLong());
          if (s.executeUpdate() != 1) {
            return false;
          }
        }
      } else {
        // A failed statement ends a PostgreSQL transaction unless it is rolled back to a savepoint.
        java.sql.Savepoint beforeInsert = c.setSavepoint();
        try (PreparedStatement s = c.prepareStatement(INSERT)) {
          bind(s, next);
          s.executeUpdate();
        } catch (SQLException e) {
          if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
            c.rollback(beforeInsert);
            return false;
          }
          throw e;
        }
        c.releaseSavepoint(beforeInsert);
      }
      upsert(next);
      return true;
    });
  }

  private static final String UNIQUE_VIOLATION = "23505"; // H2 and PostgreSQL alike

  private static final String INSERT =
      "INSERT INTO deployments (name, payload_sha256, sequence, previous_sha256, previous_sequence,"
          + " generation, labels_json, max_instances, paused, retry_marked_bad, signatures,"
          + " frozen_sha256, frozen_sequence, frozen_generation, updated_at)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  /** Stores the deployment and, when they changed, the hosts it names, in one transaction. */
  public void upsert(DeploymentRecord d) {
    jdbc.inTransaction("store deployment " + d.name(), c -> {
      try (PreparedStatement s = c.prepareStatement(jdbc.dialect().upsert("deployments", "name", COLUMNS))) {
        bind(s, d);
        s.executeUpdate();
      }
      if (!storedHosts(c, d.name()).equals(d.hosts())) {
        replaceHosts(c, d.name(), d.hosts());
      }
      return null;
    });
  }

  private static List<String> storedHosts(Connection c, String name) throws SQLException {
    List<String> hosts = new ArrayList<>();
    try (PreparedStatement s = c.prepareStatement(
        "SELECT host_name FROM deployment_hosts WHERE deployment = ? ORDER BY position")) {
      s.setString(1, name);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          hosts.add(r.getString(1));
        }
      }
    }
    return hosts;
  }

  private static void replaceHosts(Connection c, String name, List<String> hosts) throws SQLException {
    try (PreparedStatement delete = c.prepareStatement("DELETE FROM deployment_hosts WHERE deployment = ?")) {
      delete.setString(1, name);
      delete.executeUpdate();
    }
    try (PreparedStatement insert = c.prepareStatement(
        "INSERT INTO deployment_hosts (deployment, position, host_name) VALUES (?, ?, ?)")) {
      for (int i = 0; i < hosts.size(); i++) {
        insert.setString(1, name);
        insert.setInt(2, i);
        insert.setString(3, hosts.get(i));
        insert.addBatch();
      }
      insert.executeBatch();
    }
  }

  private static void bind(PreparedStatement s, DeploymentRecord d) throws SQLException {
    s.setString(1, d.name());
    s.setString(2, d.payloadSha256());
    s.setLong(3, d.sequence());
    s.setString(4, d.previousSha256());
    if (d.previousSequence() == null) {
      s.setNull(5, Types.BIGINT);
    } else {
      s.setLong(5, d.previousSequence());
    }
    s.setLong(6, d.generation());
    s.setString(7, json(d.labels()));
    s.setInt(8, d.maxInstances());
    s.setBoolean(9, d.paused());
    s.setBoolean(10, d.retryMarkedBad());
    s.setBytes(11, d.signatures());
    if (d.frozen() == null) {
      s.setNull(12, Types.CHAR);
      s.setNull(13, Types.BIGINT);
      s.setNull(14, Types.BIGINT);
    } else {
      s.setString(12, d.frozen().sha256());
      s.setLong(13, d.frozen().sequence());
      s.setLong(14, d.frozen().generation());
    }
    s.setTimestamp(15, Timestamp.from(d.updatedAt()));
  }

  /** Deletes the deployment only if its row is still at {@code expected}; false otherwise. */
  public boolean compareAndDelete(String name, long expected) {
    return jdbc.update("delete deployment " + name, "DELETE FROM deployments WHERE name = ? AND row_version = ?",
        s -> {
          s.setString(1, name);
          s.setLong(2, expected);
        }) == 1;
  }

  public boolean delete(String name) {
    return jdbc.update("delete deployment " + name, "DELETE FROM deployments WHERE name = ?",
        s -> s.setString(1, name)) == 1;
  }

  private static DeploymentRecord read(ResultSet r, List<String> hosts) throws SQLException {
    long previousSequence = r.getLong("previous_sequence");
    Long previous = r.wasNull() ? null : previousSequence;
    String frozenSha = r.getString("frozen_sha256");
    Frozen frozen = frozenSha == null ? null
        : new Frozen(frozenSha, r.getLong("frozen_sequence"), r.getLong("frozen_generation"));
    return new DeploymentRecord(r.getString("name"), r.getString("payload_sha256"), r.getLong("sequence"),
        r.getString("previous_sha256"), previous, r.getLong("generation"),
        List.copyOf(hosts),
        parse(r.getString("labels_json"), new TypeReference<Map<String, String>>() {}),
        r.getInt("max_instances"), r.getBoolean("paused"), r.getBoolean("retry_marked_bad"),
        r.getBytes("signatures"), frozen, r.getTimestamp("updated_at").toInstant());
  }

  private static String json(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static <T> T parse(String json, TypeReference<T> type) {
    try {
      return MAPPER.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored JSON is invalid: " + json, e);
    }
  }
}
