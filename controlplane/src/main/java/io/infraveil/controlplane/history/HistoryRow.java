package io.infraveil.controlplane.history;

import io.infraveil.controlplane.ops.Evidence;
import java.util.Objects;

/** One row waiting to be written in a batch. */
public sealed interface HistoryRow {

  /** Evidence from any source, for the history table. */
  record EvidenceRow(Evidence evidence) implements HistoryRow {
    public EvidenceRow {
      Objects.requireNonNull(evidence, "evidence");
    }
  }

  /** An entry appended to an open incident's timeline. */
  record TimelineRow(String incidentId, Evidence evidence) implements HistoryRow {
    public TimelineRow {
      Objects.requireNonNull(incidentId, "incidentId");
      Objects.requireNonNull(evidence, "evidence");
    }
  }
}
