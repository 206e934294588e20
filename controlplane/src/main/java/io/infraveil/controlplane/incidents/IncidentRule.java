package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.store.SecurityEventStore.SecurityEventRecord;
import io.infraveil.proto.v1.HostReport;
import java.time.Instant;
import java.util.List;

/**
 * One incident rule over reported state. It hears reports as they arrive, keeps only what it
 * needs to decide, and says which findings hold at a given instant. Rules never guess: a
 * finding is always backed by something a host or a caller did or failed to do.
 * Implementations are thread-safe.
 */
public interface IncidentRule {

  Rule rule();

  default void hostReported(String host, HostReport report) {}

  default void agentReported(ReportIngest.AgentReport report) {}

  default void event(ReportIngest.ReceivedEvent event) {}

  default void securityEvent(SecurityEventRecord event) {}

  /** An open incident of this rule was loaded from the store at start. */
  default void restored(Finding finding) {}

  /** What holds at {@code now}. */
  List<Finding> findings(Instant now);
}
