package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.history.HistoryRow;
import io.infraveil.controlplane.history.HistoryWriter;
import io.infraveil.controlplane.ops.Evidence;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.proto.v1.EvidenceSource;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.TimelineEntry;
import jakarta.inject.Singleton;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Incidents in the database. Openings and resolutions are written at once (they are rare); timeline
 * entries added while an incident is open go through the batched history writer.
 */
@Singleton
public final class JdbcIncidentStore implements IncidentStore {

  private final Jdbc jdbc;
  private final HistoryWriter writer;

  public JdbcIncidentStore(Jdbc jdbc, HistoryWriter writer) {
    this.jdbc = jdbc;
    this.writer = writer;
  }

  @Override
  public void opened(String key, Incident incident) {
    jdbc.inTransaction("store incident " + incident.getId(), c -> {
      try (PreparedStatement s = c.prepareStatement("INSERT INTO incidents (id, incident_key, rule, summary, "
          + "host_name, deployment, service, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        s.setString(1, incident.getId());
        s.setString(2, truncate(key, 600));
        s.setString(3, incident.getRule());
        s.setString(4, truncate(incident.getSummary(), 2000));
        s.setString(5, incident.getHostName());
        s.setString(6, incident.getDeployment());
        s.setString(7, incident.getService());
        s.setTimestamp(8, Timestamp.from(ProtoTime.instant(incident.getOpenedAt())));
        s.executeUpdate();
      }
      try (PreparedStatement s = c.prepareStatement(
          "INSERT INTO incident_timeline (incident_id, at, source, text) VALUES (?, ?, ?, ?)")) {
        for (TimelineEntry entry : incident.getTimelineList()) {
          s.setString(1, incident.getId());
          s.setTimestamp(2, Timestamp.from(ProtoTime.instant(entry.getAt())));
          s.setString(3, entry.getSource().name().substring("EVIDENCE_SOURCE_".length()));
          s.setString(4, truncate(entry.getText(), 4000));
          s.addBatch();
        }
        s.executeBatch();
      }
      return null;
    });
  }

  @Override
  public void appended(String incidentId, TimelineEntry entry) {
    writer.enqueue(new HistoryRow.TimelineRow(incidentId, new Evidence(ProtoTime.instant(entry.getAt()),
        entry.getSource(), "", "", "", "", entry.getText())));
  }

  @Override
  public void resolved(String incidentId, Instant at) {
    jdbc.update("resolve incident " + incidentId, "UPDATE incidents SET resolved_at = ? WHERE id = ?", s -> {
      s.setTimestamp(1, Timestamp.from(at));
      s.setString(2, incidentId);
    });
  }

  @Override
  public List<Stored> load(int recentResolved) {
    List<Stored> incidents = new ArrayList<>(jdbc.query("load open incidents",
        "SELECT * FROM incidents WHERE resolved_at IS NULL ORDER BY opened_at DESC", s -> {}, this::incident));
    incidents.addAll(jdbc.query("load resolved incidents",
        "SELECT * FROM incidents WHERE resolved_at IS NOT NULL ORDER BY opened_at DESC LIMIT ?",
        s -> s.setInt(1, recentResolved), this::incident));
    List<Stored> out = new ArrayList<>(incidents.size());
    for (Stored stored : incidents) {
      List<TimelineEntry> timeline = jdbc.query("load timeline of " + stored.incident().getId(),
          "SELECT at, source, text FROM incident_timeline WHERE incident_id = ? ORDER BY at, id",
          s -> s.setString(1, stored.incident().getId()),
          r -> TimelineEntry.newBuilder()
              .setAt(ProtoTime.timestamp(r.getTimestamp("at").toInstant()))
              .setSource(EvidenceSource.valueOf("EVIDENCE_SOURCE_" + r.getString("source")))
              .setText(r.getString("text"))
              .build());
      out.add(new Stored(stored.key(), stored.incident().toBuilder().addAllTimeline(timeline).build()));
    }
    return out;
  }

  private Stored incident(java.sql.ResultSet r) throws java.sql.SQLException {
    Timestamp resolvedAt = r.getTimestamp("resolved_at");
    Incident.Builder incident = Incident.newBuilder()
        .setId(r.getString("id"))
        .setRule(r.getString("rule"))
        .setSummary(r.getString("summary"))
        .setHostName(r.getString("host_name"))
        .setDeployment(r.getString("deployment"))
        .setService(r.getString("service"))
        .setOpenedAt(ProtoTime.timestamp(r.getTimestamp("opened_at").toInstant()))
        .setState(resolvedAt == null ? IncidentState.INCIDENT_STATE_OPEN : IncidentState.INCIDENT_STATE_RESOLVED);
    if (resolvedAt != null) {
      incident.setResolvedAt(ProtoTime.timestamp(resolvedAt.toInstant()));
    }
    return new Stored(r.getString("incident_key"), incident.build());
  }

  private static String truncate(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max);
  }
}
