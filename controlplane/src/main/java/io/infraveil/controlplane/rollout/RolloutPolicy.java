package io.infraveil.controlplane.rollout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The rollout rules, as a pure function of a rollout, what its hosts report and the time: which
 * hosts count as healthy or failed, whether the rollout ends, which hosts move next. The engine
 * stores and carries out the {@link Decision}; nothing here reads a clock or the store.
 */
final class RolloutPolicy {

  /**
   * What one host reports for the deployment, as far as the rollout cares.
   *
   * @param runsTarget its agent runs the rollout's version
   * @param healthy every service of that version is running and healthy
   * @param failure why the host failed the version (rolled back, marked it bad, a service
   *     FAILED, the payload refused), or null
   * @param running what it reports running, for messages
   */
  record Observation(boolean online, boolean runsTarget, boolean healthy, String failure, String running) {
    static final Observation NOTHING = new Observation(false, false, false, null, "no report");
  }

  /** What happened in one decision, for Watch and the log. */
  enum StepKind {
    BATCH_STARTED, HOST_HEALTHY, HOST_FAILED, AWAITING_PROMOTION, SUCCEEDED, FAILED, REVERTED,
    /** The deployment is gone (told by the engine, never decided here). */
    DELETED
  }

  /** One step, with the host it concerns (empty for the whole rollout). */
  record Step(StepKind kind, String host, int batch, String text) {}

  /** The rollout after the decision, and the steps taken; {@code changed} says whether to store it. */
  record Decision(Rollout rollout, List<Step> steps, boolean changed) {}

  private RolloutPolicy() {}

  /**
   * Decides one round.
   *
   * @param deadlineFloor healthy_deadline counts from the later of a host's move and this (the
   *     last time the deployment was seen paused), or from the move when null
   */
  static Decision decide(Rollout rollout, Map<String, Observation> seen, boolean paused, Instant deadlineFloor,
      Instant now) {
    Objects.requireNonNull(now, "now");
    if (rollout.phase().terminal() || paused) {
      return new Decision(rollout, List.of(), false);
    }
    Strategy strategy = rollout.strategy();
    List<Step> steps = new ArrayList<>();
    // One pass and one copy of the host list, however many hosts are judged.
    Rollout next = rollout.withEachHost(host -> {
      if (host.phase() != HostPhase.UPDATING) {
        return host;
      }
      Observation o = seen.getOrDefault(host.host(), Observation.NOTHING);
      RolloutHostEntry judged = host;
      if (o.failure() != null) {
        judged = host.failed(o.failure(), now);
      } else if (o.runsTarget() && o.healthy()) {
        Instant since = host.healthySince() != null ? host.healthySince() : now;
        judged = host.healthySince() == null ? host.healthySince(now) : host;
        if (!now.isBefore(since.plus(strategy.minHealthyTime()))) {
          judged = judged.healthy(now);
        }
      } else if (host.healthySince() != null) {
        judged = host.healthySince(null);
      }
      if (judged.phase() == HostPhase.UPDATING) {
        Instant start = deadlineFloor != null && deadlineFloor.isAfter(host.movedAt()) ? deadlineFloor
            : host.movedAt();
        if (!now.isBefore(start.plus(strategy.healthyDeadline()))) {
          judged = judged.failed("not healthy within healthy_deadline " + human(strategy.healthyDeadline())
              + " (reports: " + o.running() + (o.online() ? "" : ", offline") + ")", now);
        } else {
          judged = judged.waiting(o.online() ? "" : "offline");
        }
      }
      if (judged.phase() == HostPhase.HEALTHY) {
        steps.add(new Step(StepKind.HOST_HEALTHY, host.host(), host.batch(), host.host() + " runs "
            + rollout.target().label() + " healthy for " + human(strategy.minHealthyTime())));
      } else if (judged.phase() == HostPhase.FAILED) {
        steps.add(new Step(StepKind.HOST_FAILED, host.host(), host.batch(), host.host() + " failed "
            + rollout.target().label() + ": " + judged.detail()));
      }
      return judged;
    });
    RolloutHostEntry failed = next.hosts().stream().filter(h -> h.phase() == HostPhase.FAILED).findFirst()
        .orElse(null);
    if (failed != null) {
      return fail(next, failed, steps, now);
    }
    if (next.count(HostPhase.UPDATING) > 0) {
      return new Decision(next, steps, !next.equals(rollout));
    }
    if (next.count(HostPhase.PENDING) == 0) {
      steps.add(new Step(StepKind.SUCCEEDED, "", next.batch(), "rollout of " + rollout.target().label()
          + " succeeded: " + next.hosts().size() + " hosts updated"));
      return new Decision(next.withPhase(Phase.SUCCEEDED, null, now), steps, true);
    }
    boolean canaryBatchDone = strategy.canary() > 0 && next.batch() == 1;
    if (next.phase() == Phase.AWAITING_PROMOTION) {
      if (!next.promoted()) {
        return new Decision(next, steps, !next.equals(rollout));
      }
      next = next.withPhase(Phase.RUNNING, null, now);
    } else if (canaryBatchDone && !next.promoted() && !strategy.autoPromote()) {
      steps.add(new Step(StepKind.AWAITING_PROMOTION, "", next.batch(), "canaries of " + rollout.target().label()
          + " are healthy; `infraveil ctl promote " + rollout.deployment() + "` continues"));
      return new Decision(next.withPhase(Phase.AWAITING_PROMOTION, null, now), steps, true);
    }
    return new Decision(moveNextBatch(next, seen, steps, now), steps, true);
  }

  private static Rollout moveNextBatch(Rollout rollout, Map<String, Observation> seen, List<Step> steps,
      Instant now) {
    Strategy strategy = rollout.strategy();
    boolean canaries = rollout.batch() == 0 && strategy.canary() > 0;
    int size = canaries ? strategy.canary() : strategy.maxParallel();
    int batch = rollout.batch() + 1;
    List<String> moved = new ArrayList<>();
    Rollout next = rollout.withEachHost(host -> {
      if (host.phase() != HostPhase.PENDING) {
        return host;
      }
      boolean online = seen.getOrDefault(host.host(), Observation.NOTHING).online();
      if (!online || moved.size() == size) {
        // An offline host is never moved: the rollout waits for it (ROLLOUT_STUCK counts it).
        return host.waiting(online ? "" : "offline: waits until it reports");
      }
      moved.add(host.host());
      return host.moved(batch, canaries, now);
    });
    if (moved.isEmpty()) {
      return next;
    }
    steps.add(new Step(StepKind.BATCH_STARTED, "", batch, "batch " + batch + " of " + rollout.target().label()
        + (canaries ? " (canary)" : "") + ": " + String.join(", ", moved)));
    return next.withBatch(batch);
  }

  private static Decision fail(Rollout rollout, RolloutHostEntry failed, List<Step> steps, Instant now) {
    String reason = "host " + failed.host() + " failed " + rollout.target().label() + ": " + failed.detail();
    // A signed version cannot be put back under its old sequence: hosts that pin publisher
    // keys refuse an older sequence as a replay (that refusal is what stops a compromised
    // control plane from rolling hosts back). Such a rollout fails; each failed host keeps its
    // own last known good, and the operator re-signs the previous version with a new sequence.
    boolean signed = rollout.revertTo() != null && rollout.revertTo().signatures() != null
        && rollout.revertTo().signatures().length > 0;
    if (rollout.strategy().autoRevert() && rollout.revertTo() != null && !signed) {
      List<String> reverted = new ArrayList<>();
      Rollout next = rollout.withEachHost(host -> {
        if (!host.phase().moved()) {
          return host;
        }
        reverted.add(host.host());
        return host.reverted(now);
      });
      String why = reason + "; reverted " + String.join(", ", reverted) + " to " + rollout.revertTo().label();
      steps.add(new Step(StepKind.REVERTED, failed.host(), failed.batch(), "rollout of "
          + rollout.target().label() + " reverted: " + why));
      return new Decision(next.withPhase(Phase.REVERTED, why, now), steps, true);
    }
    String why = reason + (rollout.revertTo() == null ? "; nothing to revert to (first version)"
        : !rollout.strategy().autoRevert() ? "; auto_revert is off, moved hosts keep it"
        : "; not reverted: " + rollout.revertTo().label() + " is signed, and hosts that pin publisher keys"
            + " refuse its older sequence as a replay; deploy it again with `ctl deploy --sign` (a new"
            + " sequence) to revert");
    steps.add(new Step(StepKind.FAILED, failed.host(), failed.batch(), "rollout of " + rollout.target().label()
        + " failed: " + why));
    return new Decision(rollout.withPhase(Phase.FAILED, why, now), steps, true);
  }

  static String human(Duration d) {
    if (d.toMillis() % 60_000 == 0 && d.toMinutes() > 0) {
      return d.toMinutes() + "m";
    }
    if (d.toMillis() % 1000 == 0) {
      return d.toSeconds() + "s";
    }
    return d.toMillis() + "ms";
  }
}
