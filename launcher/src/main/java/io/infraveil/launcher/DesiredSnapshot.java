package io.infraveil.launcher;

import io.infraveil.proto.v1.DesiredState;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The host's full desired state at one revision, as persisted before it is acted on, with the
 * host's labels as the control plane has them (absent in older state files: none).
 */
public record DesiredSnapshot(long revision, List<DesiredAgentSpec> agents,
    java.util.Map<String, String> hostLabels) {

  public static final DesiredSnapshot NONE = new DesiredSnapshot(0, List.of());

  /** A snapshot without host labels. */
  public DesiredSnapshot(long revision, List<DesiredAgentSpec> agents) {
    this(revision, agents, java.util.Map.of());
  }

  public DesiredSnapshot {
    if (revision < 0) {
      throw new IllegalArgumentException("revision must be >= 0, got " + revision);
    }
    agents = List.copyOf(Objects.requireNonNull(agents, "agents"));
    hostLabels = hostLabels == null ? java.util.Map.of()
        : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(hostLabels));
    if (agents.stream().map(DesiredAgentSpec::deployment).distinct().count() != agents.size()) {
      throw new IllegalArgumentException("desired state revision " + revision
          + " names a deployment twice");
    }
  }

  public static DesiredSnapshot of(DesiredState state) {
    return new DesiredSnapshot(state.getRevision(),
        state.getAgentsList().stream().map(DesiredAgentSpec::of).toList(),
        state.getHostLabelsMap());
  }

  public Optional<DesiredAgentSpec> agent(String deployment) {
    return agents.stream().filter(a -> a.deployment().equals(deployment)).findFirst();
  }
}
