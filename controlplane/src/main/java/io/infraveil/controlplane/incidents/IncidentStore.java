package io.infraveil.controlplane.incidents;

import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.TimelineEntry;
import java.time.Instant;
import java.util.List;

/** Where incidents are kept across restarts. */
public interface IncidentStore {

  /** An incident and the key of the finding behind it. */
  record Stored(String key, Incident incident) {}

  /**
   * Stores a newly opened incident with its initial timeline, unless an incident with the same
   * key is open already (at most one is, whoever opened it): then nothing is written and that
   * one is answered. Answers the incident open for {@code key} after the call.
   */
  Stored opened(String key, Incident incident);

  /** Appends one entry to an incident's timeline (may be written later, in a batch). */
  void appended(String incidentId, TimelineEntry entry);

  /** Resolves an open incident (its key may open a new one from then on); a resolved one stays as it was. */
  void resolved(String incidentId, Instant at);

  /**
   * A value that changes whenever what {@link #load} answers may have changed, so a replica
   * following the store reads it again only then; empty when the store cannot tell.
   */
  default String changeMark() {
    return "";
  }

  /** Every open incident and up to {@code recentResolved} resolved ones, newest first. */
  List<Stored> load(int recentResolved);
}
