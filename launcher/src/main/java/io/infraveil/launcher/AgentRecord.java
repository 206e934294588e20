package io.infraveil.launcher;

import io.infraveil.host.process.ProcessIdentity;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What the launcher remembers about one agent across restarts. {@code process} is the agent it
 * started (or adopted) and has not asked to stop; null when none runs. {@code payload} and
 * {@code generation} are what that process was started for.
 *
 * @param crashes unplanned exits still inside the crash window, oldest first
 * @param suspendedUntil end of the current cooldown, null when not suspended
 * @param suspensions consecutive suspensions (the cooldown doubles with each)
 * @param lastKnownGood last payload that ran a full crash window without crashing
 * @param lastReason machine-readable reason of the latest decision, for reports
 */
public record AgentRecord(String deployment, ProcessIdentity process, PayloadId payload,
    long generation, List<Instant> crashes, Instant suspendedUntil, int suspensions,
    PayloadId lastKnownGood, String lastReason) {

  public AgentRecord {
    Objects.requireNonNull(deployment, "deployment");
    crashes = crashes == null ? List.of() : List.copyOf(crashes);
    if (suspensions < 0) {
      throw new IllegalArgumentException("suspensions must be >= 0, got " + suspensions);
    }
    lastReason = lastReason == null ? "" : lastReason;
  }

  public static AgentRecord fresh(String deployment) {
    return new AgentRecord(deployment, null, null, 0, List.of(), null, 0, null, "");
  }

  public AgentRecord withProcess(ProcessIdentity newProcess, PayloadId newPayload,
      long newGeneration, String reason) {
    return new AgentRecord(deployment, newProcess, newPayload, newGeneration, crashes,
        suspendedUntil, suspensions, lastKnownGood, reason);
  }

  public AgentRecord withoutProcess(String reason) {
    return new AgentRecord(deployment, null, payload, generation, crashes, suspendedUntil,
        suspensions, lastKnownGood, reason);
  }

  public AgentRecord withCrashHistory(List<Instant> newCrashes, Instant newSuspendedUntil,
      int newSuspensions, String reason) {
    return new AgentRecord(deployment, process, payload, generation, newCrashes,
        newSuspendedUntil, newSuspensions, lastKnownGood, reason);
  }

  public AgentRecord withLastKnownGood(PayloadId good) {
    return new AgentRecord(deployment, process, payload, generation, crashes, suspendedUntil,
        suspensions, good, lastReason);
  }

  public AgentRecord withReason(String reason) {
    return new AgentRecord(deployment, process, payload, generation, crashes, suspendedUntil,
        suspensions, lastKnownGood, reason);
  }

  /** Suspended is derived from the cooldown's end, never kept as a flag. */
  public boolean isSuspendedAt(Instant now) {
    return suspendedUntil != null && now.isBefore(suspendedUntil);
  }
}
