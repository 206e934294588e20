package io.infraveil.agent.main;

import io.infraveil.host.payload.CacheResult;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What the agent runs, decided from what it knows; the {@link Agent} only carries it out.
 *
 * <pre>
 * desired marked bad here, no retry asked --> fallbacks           MARKED_BAD, no fetch
 * fetch CACHED                           --> desired              DESIRED
 * fetch REJECTED                         --> fallbacks            PAYLOAD_REJECTED, no retry
 * fetch UNAVAILABLE, release extracted   --> desired              DESIRED_FROM_DISK, no retry
 * fetch UNAVAILABLE, not on disk         --> fallbacks            CONTROL_PLANE_UNAVAILABLE, retry
 * </pre>
 * Fallbacks, in order: the version the previous agent ran (adopting its live processes), then
 * the known good versions newest first; never the desired one, never one marked bad. With no
 * fallback nothing runs and the agent stays up reporting why.
 */
public record StartPlan(List<String> candidates, Reason reason, boolean retryFetch) {

  /** Why the plan is what it is; flows unchanged into events. */
  public enum Reason {
    /** The desired version was fetched and verified. */
    DESIRED,
    /** The control plane is unreachable but the desired release is already on disk. */
    DESIRED_FROM_DISK,
    /** The desired version was rolled back here before and the launcher did not ask to retry. */
    MARKED_BAD,
    /** The desired payload failed a check; it is never run. */
    PAYLOAD_REJECTED,
    /** The payload cannot be fetched now; fetching is retried with backoff. */
    CONTROL_PLANE_UNAVAILABLE
  }

  /** What the agent knows at the moment of deciding. */
  public record Facts(String desired, boolean retryMarkedBad, Set<String> markedBad,
      Optional<String> previouslyRunning, List<String> knownGood, boolean desiredOnDisk) {
    public Facts {
      Objects.requireNonNull(desired, "desired");
      markedBad = Set.copyOf(markedBad);
      Objects.requireNonNull(previouslyRunning, "previouslyRunning");
      knownGood = List.copyOf(knownGood);
    }

    /** True when the desired version must not be fetched or run at all. */
    public boolean skipDesired() {
      return markedBad.contains(desired) && !retryMarkedBad;
    }
  }

  public StartPlan {
    candidates = List.copyOf(candidates);
    Objects.requireNonNull(reason, "reason");
  }

  /** Decides before any fetch: only a desired version marked bad is decided here. */
  public static Optional<StartPlan> beforeFetch(Facts facts) {
    return facts.skipDesired()
        ? Optional.of(new StartPlan(fallbacks(facts), Reason.MARKED_BAD, false))
        : Optional.empty();
  }

  /** Decides once the cache has answered for the desired payload. */
  public static StartPlan afterFetch(Facts facts, CacheResult.Status fetched) {
    Objects.requireNonNull(fetched, "fetched");
    return switch (fetched) {
      case CACHED -> new StartPlan(List.of(facts.desired()), Reason.DESIRED, false);
      case REJECTED -> new StartPlan(fallbacks(facts), Reason.PAYLOAD_REJECTED, false);
      case UNAVAILABLE -> facts.desiredOnDisk()
          ? new StartPlan(List.of(facts.desired()), Reason.DESIRED_FROM_DISK, false)
          : new StartPlan(fallbacks(facts), Reason.CONTROL_PLANE_UNAVAILABLE, true);
      default -> throw new AssertionError("unhandled cache status " + fetched);
    };
  }

  /** True when the plan runs the desired version. */
  public boolean runsDesired() {
    return reason == Reason.DESIRED || reason == Reason.DESIRED_FROM_DISK;
  }

  private static List<String> fallbacks(Facts facts) {
    Set<String> out = new LinkedHashSet<>();
    facts.previouslyRunning().ifPresent(out::add);
    out.addAll(facts.knownGood());
    out.remove(facts.desired());
    out.removeAll(facts.markedBad());
    return new ArrayList<>(out);
  }
}
