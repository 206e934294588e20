package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.history.HistoryRow;
import io.infraveil.controlplane.history.HistoryWriter;
import io.infraveil.controlplane.ops.Evidence;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.store.StoreException;
import io.infraveil.proto.v1.EvidenceSource;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.TimelineEntry;
import jakarta.inject.Singleton;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Incidents in the database. At most one incident per finding key is open: {@code open_key} is
 * unique while set and cleared on resolve (V12). Openings and resolutions are written at once (they are rare); timeline
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
  public Stored opened(String key, Incident incident) {
    String openKey = truncate(key, 600);
    try {
      jdbc.inTransaction("store incident " + incident.getId(), c -> {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO incidents (id, incident_key, open_key, rule, summary, "
            + "host_name, deployment, service, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
          s.setString(1, incident.getId());
          s.setString(2, openKey);
          s.setString(3, openKey);
          s.setString(4, incident.getRule());
          s.setString(5, truncate(incident.getSummary(), 2000));
          s.setString(6, incident.getHostName());
          s.setString(7, incident.getDeployment());
          s.setString(8, incident.getService());
          s.setTimestamp(9, Timestamp.from(ProtoTime.instant(incident.getOpenedAt())));
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
      return new Stored(key, incident);
    } catch (StoreException e) {
      if (!uniqueViolation(e)) {
        throw e;
      }
      // The unique index on open_key: another replica's leader opened this finding first.
      return withTimelines(jdbc.query("load the open incident " + openKey,
          "SELECT * FROM incidents WHERE open_key = ?", s -> s.setString(1, openKey), this::incident))
          .stream().findFirst().orElseThrow(() -> e);
    }
  }

  /** SQLSTATE 23505, unique violation, on H2 and PostgreSQL alike. */
  private static boolean uniqueViolation(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && "23505".equals(sql.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void appended(String incidentId, TimelineEntry entry) {
    writer.enqueue(new HistoryRow.TimelineRow(incidentId, new Evidence(ProtoTime.instant(entry.getAt()),
        entry.getSource(), "", "", "", "", entry.getText())));
  }

  @Override
  public void resolved(String incidentId, Instant at) {
    jdbc.update("resolve incident " + incidentId, "UPDATE incidents SET resolved_at = ?, open_key = NULL WHERE id = ? AND resolved_at IS NULL", s -> {
      s.setTimestamp(1, Timestamp.from(at));
      s.setString(2, incidentId);
    });
  }

  @Override
  public String changeMark() {
    // Rows are only ever added, resolved or pruned, and timeline ids only grow.
    return jdbc.queryOne("read the incidents' change mark", "SELECT (SELECT COUNT(*) FROM incidents),"
        + " (SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL),"
        + " (SELECT COALESCE(MAX(id), 0) FROM incident_timeline)", s -> { },
        r -> r.getLong(1) + "/" + r.getLong(2) + "/" + r.getLong(3)).orElse("");
  }

  @Override
  public List<Stored> load(int recentResolved) {
    List<Stored> incidents = new ArrayList<>(jdbc.query("load open incidents",
        "SELECT * FROM incidents WHERE resolved_at IS NULL ORDER BY opened_at DESC", s -> {}, this::incident));
    incidents.addAll(jdbc.query("load resolved incidents",
        "SELECT * FROM incidents WHERE resolved_at IS NOT NULL ORDER BY opened_at DESC LIMIT ?",
        s -> s.setInt(1, recentResolved), this::incident));
    return withTimelines(incidents);
  }

  private List<Stored> withTimelines(List<Stored> incidents) {
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
