package io.infraveil.agent;

import io.infraveil.host.time.RollingWindow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Tracks the standing of the running version (see {@link VersionStatus}): stabilization into
 * known good, deploy failures of a candidate, the known-good list and the locally bad set.
 * Facts come in with their time; not thread-safe: owned by the supervisor under its lock.
 */
public final class VersionTracker {

  /** Known good versions kept for rollback, newest first. */
  public static final int KEEP_KNOWN_GOOD = 3;

  private final Duration stabilization;
  private final RollbackPolicy policy;
  private String current;
  private VersionStatus status = VersionStatus.NONE;
  private Instant healthySince;
  private final RollingWindow failures;
  private final List<String> knownGood = new ArrayList<>();
  private final Set<String> markedBad = new LinkedHashSet<>();

  public VersionTracker(Duration stabilization, RollbackPolicy policy, VersionState saved) {
    this.stabilization = Objects.requireNonNull(stabilization, "stabilization");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.failures = RollingWindow.of(policy.window(), saved.deployFailures());
    this.current = saved.current();
    this.status = saved.status();
    this.knownGood.addAll(saved.knownGood());
    this.markedBad.addAll(saved.markedBad());
  }

  /** A version was started (a new one, the same one again, or a rollback target). */
  public VersionStatus started(String sha256) {
    Objects.requireNonNull(sha256, "sha256");
    if (!sha256.equals(current)) {
      failures.clear();
    }
    current = sha256;
    status = knownGood.contains(sha256) ? VersionStatus.KNOWN_GOOD : VersionStatus.CANDIDATE;
    healthySince = null;
    return status;
  }

  /**
   * Records whether every service is running and healthy at {@code now}; returns true when
   * this observation made the candidate known good (which also unmarks it if it was marked bad
   * and retried on purpose).
   */
  public boolean observe(boolean allHealthy, Instant now) {
    if (status != VersionStatus.CANDIDATE) {
      return false;
    }
    if (!allHealthy) {
      healthySince = null;
      return false;
    }
    if (healthySince == null) {
      healthySince = now;
    }
    if (Duration.between(healthySince, now).compareTo(stabilization) < 0) {
      return false;
    }
    status = VersionStatus.KNOWN_GOOD;
    // A version rolled back from earlier and retried on purpose has now proved itself.
    markedBad.remove(current);
    knownGood.remove(current);
    knownGood.add(0, current);
    while (knownGood.size() > KEEP_KNOWN_GOOD) {
      knownGood.remove(knownGood.size() - 1);
    }
    failures.clear();
    return true;
  }

  /**
   * A deploy failure (failed start or unhealthy) at {@code now}. Only a candidate's failures
   * count; on ROLL_BACK the current version is marked bad here and the caller starts the target.
   */
  public RollbackDecision deployFailure(Instant now) {
    healthySince = null;
    if (status == VersionStatus.CANDIDATE) {
      failures.record(now);
    }
    RollbackDecision decision = policy.decide(status, failures.events(now), now,
        knownGood.stream().filter(sha -> !sha.equals(current)).findFirst());
    if (decision.action() == RollbackDecision.Action.ROLL_BACK) {
      markedBad.add(current);
    }
    return decision;
  }

  public Optional<String> current() {
    return Optional.ofNullable(current);
  }

  public VersionStatus status() {
    return status;
  }

  public Optional<String> lastKnownGood() {
    return knownGood.stream().findFirst();
  }

  public boolean isMarkedBad(String sha256) {
    return markedBad.contains(sha256);
  }

  public VersionState state(Instant now) {
    return new VersionState(current, status, knownGood, markedBad, failures.events(now));
  }
}
