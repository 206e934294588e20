package io.infraveil.controlplane.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.inject.Singleton;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** Deployments, and the per-name sequence counter that only ever grows. */
@Singleton
public final class DeploymentStore {

  private static final ObjectMapper MAPPER = new ObjectMapper();

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
    return jdbc.query("list deployments", "SELECT * FROM deployments ORDER BY name", s -> {}, DeploymentStore::read);
  }

  public Optional<DeploymentRecord> find(String name) {
    return jdbc.queryOne("read deployment " + name, "SELECT * FROM deployments WHERE name = ?",
        s -> s.setString(1, name), DeploymentStore::read);
  }

  /**
   * Takes {@code wanted} as the deployment's sequence when it is above every sequence the name
   * had (a publisher chose it and signed it); returns the last sequence otherwise, untouched.
   */
  public OptionalLong claimSequence(String name, long wanted) {
    return jdbc.inTransaction("claim sequence " + wanted + " of " + name, c -> {
      long last;
      try (PreparedStatement select = c.prepareStatement(
          "SELECT last_sequence FROM deployment_sequences WHERE name = ? FOR UPDATE")) {
        select.setString(1, name);
        try (ResultSet r = select.executeQuery()) {
          last = r.next() ? r.getLong(1) : 0;
        }
      }
      if (wanted <= last) {
        return OptionalLong.of(last);
      }
      try (PreparedStatement merge = c.prepareStatement(
          "MERGE INTO deployment_sequences (name, last_sequence) KEY (name) VALUES (?, ?)")) {
        merge.setString(1, name);
        merge.setLong(2, wanted);
        merge.executeUpdate();
      }
      return OptionalLong.empty();
    });
  }

  /** The next sequence number for a deployment name (never reused). */
  public long nextSequence(String name) {
    return jdbc.inTransaction("advance the sequence of " + name, c -> {
      long next;
      try (PreparedStatement select = c.prepareStatement(
          "SELECT last_sequence FROM deployment_sequences WHERE name = ? FOR UPDATE")) {
        select.setString(1, name);
        try (ResultSet r = select.executeQuery()) {
          next = r.next() ? r.getLong(1) + 1 : 1;
        }
      }
      try (PreparedStatement merge = c.prepareStatement(
          "MERGE INTO deployment_sequences (name, last_sequence) KEY (name) VALUES (?, ?)")) {
        merge.setString(1, name);
        merge.setLong(2, next);
        merge.executeUpdate();
      }
      return next;
    });
  }

  public void upsert(DeploymentRecord d) {
    jdbc.update("store deployment " + d.name(),
        "MERGE INTO deployments (name, payload_sha256, sequence, previous_sha256, previous_sequence,"
            + " generation, hosts_json, labels_json, max_instances, paused, retry_marked_bad, signatures,"
            + " frozen_sha256, frozen_sequence, frozen_generation, updated_at)"
            + " KEY (name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        s -> {
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
          s.setString(7, json(d.hosts()));
          s.setString(8, json(d.labels()));
          s.setInt(9, d.maxInstances());
          s.setBoolean(10, d.paused());
          s.setBoolean(11, d.retryMarkedBad());
          s.setBytes(12, d.signatures());
          if (d.frozen() == null) {
            s.setNull(13, Types.CHAR);
            s.setNull(14, Types.BIGINT);
            s.setNull(15, Types.BIGINT);
          } else {
            s.setString(13, d.frozen().sha256());
            s.setLong(14, d.frozen().sequence());
            s.setLong(15, d.frozen().generation());
          }
          s.setTimestamp(16, Timestamp.from(d.updatedAt()));
        });
  }

  public boolean delete(String name) {
    return jdbc.update("delete deployment " + name, "DELETE FROM deployments WHERE name = ?",
        s -> s.setString(1, name)) == 1;
  }

  private static DeploymentRecord read(ResultSet r) throws SQLException {
    long previousSequence = r.getLong("previous_sequence");
    Long previous = r.wasNull() ? null : previousSequence;
    String frozenSha = r.getString("frozen_sha256");
    Frozen frozen = frozenSha == null ? null
        : new Frozen(frozenSha, r.getLong("frozen_sequence"), r.getLong("frozen_generation"));
    return new DeploymentRecord(r.getString("name"), r.getString("payload_sha256"), r.getLong("sequence"),
        r.getString("previous_sha256"), previous, r.getLong("generation"),
        parse(r.getString("hosts_json"), new TypeReference<List<String>>() {}),
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
