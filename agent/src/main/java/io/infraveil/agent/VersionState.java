package io.infraveil.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the agent knows about versions, as saved: the current one and its standing, the known
 * good versions (newest first, at most {@link VersionTracker#KEEP_KNOWN_GOOD}), the versions
 * marked bad here, and the deploy failures of the current candidate.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record VersionState(String current, VersionStatus status, List<String> knownGood,
    Set<String> markedBad, List<Instant> deployFailures) {

  public static final VersionState EMPTY =
      new VersionState(null, VersionStatus.NONE, List.of(), Set.of(), List.of());

  public VersionState {
    status = status == null ? VersionStatus.NONE : status;
    knownGood = knownGood == null ? List.of() : List.copyOf(knownGood);
    markedBad = markedBad == null ? Set.of() : java.util.Collections.unmodifiableSet(
        new TreeSet<>(markedBad));
    deployFailures = deployFailures == null ? List.of() : List.copyOf(deployFailures);
    if (status != VersionStatus.NONE) {
      Objects.requireNonNull(current, "current version with status " + status);
    }
  }
}
