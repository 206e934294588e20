package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.TimelineEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Incidents in memory only: for tests and for running without a database. */
public final class InMemoryIncidentStore implements IncidentStore {

  private final Map<String, Stored> byId = new LinkedHashMap<>();
  /** Guarded by this: grows with every write. */
  private long writes;

  @Override
  public synchronized Stored opened(String key, Incident incident) {
    for (Stored s : byId.values()) {
      if (s.key().equals(key) && s.incident().getState() == IncidentState.INCIDENT_STATE_OPEN) {
        return s;
      }
    }
    Stored stored = new Stored(key, incident);
    byId.put(incident.getId(), stored);
    writes++;
    return stored;
  }

  @Override
  public synchronized void appended(String incidentId, TimelineEntry entry) {
    writes++;
    byId.computeIfPresent(incidentId, (id, s) -> new Stored(s.key(), s.incident().toBuilder().addTimeline(entry).build()));
  }

  @Override
  public synchronized void resolved(String incidentId, Instant at) {
    writes++;
    byId.computeIfPresent(incidentId, (id, s) -> s.incident().getState() != IncidentState.INCIDENT_STATE_OPEN ? s
        : new Stored(s.key(), s.incident().toBuilder().setState(IncidentState.INCIDENT_STATE_RESOLVED).setResolvedAt(ProtoTime.timestamp(at)).build()));
  }

  @Override
  public synchronized String changeMark() {
    return "w" + writes;
  }

  @Override
  public synchronized List<Stored> load(int recentResolved) {
    List<Stored> all = new ArrayList<>(byId.values());
    all.sort(Comparator.comparing((Stored s) -> ProtoTime.instant(s.incident().getOpenedAt())).reversed());
    List<Stored> out = new ArrayList<>();
    int resolved = 0;
    for (Stored s : all) {
      if (s.incident().getState() == IncidentState.INCIDENT_STATE_OPEN) {
        out.add(s);
      } else if (resolved++ < recentResolved) {
        out.add(s);
      }
    }
    return out;
  }
}
