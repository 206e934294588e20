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
 * @param heldBack the desired payload whose agent kept crashing, so that {@code payload} (the
 *     last known good) runs in its place until the control plane sends another payload or
 *     generation; null when the desired payload itself is what runs (format 2)
 */
public record AgentRecord(String deployment, ProcessIdentity process, PayloadId payload,
    long generation, List<Instant> crashes, Instant suspendedUntil, int suspensions,
    PayloadId lastKnownGood, String lastReason, PayloadId heldBack) {

  public AgentRecord {
    Objects.requireNonNull(deployment, "deployment");
    crashes = crashes == null ? List.of() : List.copyOf(crashes);
    if (suspensions < 0) {
      throw new IllegalArgumentException("suspensions must be >= 0, got " + suspensions);
    }
    lastReason = lastReason == null ? "" : lastReason;
  }

  public static AgentRecord fresh(String deployment) {
    return new AgentRecord(deployment, null, null, 0, List.of(), null, 0, null, "", null);
  }

  /** A process started for the desired payload itself: nothing is held back any more. */
  public AgentRecord withProcess(ProcessIdentity newProcess, PayloadId newPayload,
      long newGeneration, String reason) {
    return new AgentRecord(deployment, newProcess, newPayload, newGeneration, crashes,
        suspendedUntil, suspensions, lastKnownGood, reason, null);
  }

  /** A process started on the last known good payload in place of {@code held}. */
  public AgentRecord withFallbackProcess(ProcessIdentity newProcess, PayloadId held,
      long newGeneration, String reason) {
    return new AgentRecord(deployment, newProcess, lastKnownGood, newGeneration, crashes,
        suspendedUntil, suspensions, lastKnownGood, reason,
        java.util.Objects.requireNonNull(held, "held"));
  }

  /**
   * True when this record runs (or ran) what {@code desired} asks for: the same payload and
   * generation, or the last known good standing in for exactly that payload and generation.
   */
  public boolean servesDesired(PayloadId desiredPayload, long desiredGeneration) {
    if (desiredGeneration != generation) {
      return false;
    }
    return heldBack != null ? heldBack.equals(desiredPayload) : desiredPayload.equals(payload);
  }

  public AgentRecord withoutProcess(String reason) {
    return new AgentRecord(deployment, null, payload, generation, crashes, suspendedUntil,
        suspensions, lastKnownGood, reason, heldBack);
  }

  public AgentRecord withCrashHistory(List<Instant> newCrashes, Instant newSuspendedUntil,
      int newSuspensions, String reason) {
    return new AgentRecord(deployment, process, payload, generation, newCrashes,
        newSuspendedUntil, newSuspensions, lastKnownGood, reason, heldBack);
  }

  public AgentRecord withLastKnownGood(PayloadId good) {
    return new AgentRecord(deployment, process, payload, generation, crashes, suspendedUntil,
        suspensions, good, lastReason, heldBack);
  }

  public AgentRecord withReason(String reason) {
    return new AgentRecord(deployment, process, payload, generation, crashes, suspendedUntil,
        suspensions, lastKnownGood, reason, heldBack);
  }

  /** The same record naming its process by {@code identity} (same pid, more detail). */
  public AgentRecord withProcessIdentity(ProcessIdentity identity) {
    return new AgentRecord(deployment, identity, payload, generation, crashes, suspendedUntil,
        suspensions, lastKnownGood, lastReason, heldBack);
  }

  /** Suspended is derived from the cooldown's end, never kept as a flag. */
  public boolean isSuspendedAt(Instant now) {
    return suspendedUntil != null && now.isBefore(suspendedUntil);
  }
}
