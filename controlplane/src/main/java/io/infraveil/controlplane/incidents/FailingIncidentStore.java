package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.store.StoreException;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.TimelineEntry;
import java.time.Instant;
import java.util.List;

/** A store whose database is gone: every call fails. For testing that incidents still work live. */
public final class FailingIncidentStore implements IncidentStore {

  private static StoreException failure(String what) {
    return new StoreException("cannot " + what + ": the incident store is unavailable", null);
  }

  @Override
  public Stored opened(String key, Incident incident) {
    throw failure("store incident " + incident.getId());
  }

  @Override
  public void appended(String incidentId, TimelineEntry entry) {
    throw failure("append to incident " + incidentId);
  }

  @Override
  public void resolved(String incidentId, Instant at) {
    throw failure("resolve incident " + incidentId);
  }

  @Override
  public List<Stored> load(int recentResolved) {
    throw failure("load incidents");
  }
}
