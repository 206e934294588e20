package io.infraveil.agent;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The on-disk form of {@code <agentDir>/agent_state.json}: versions, and per service of the
 * running release its state and the identities (pid + start time) of its supervised processes,
 * so a restarted agent can adopt them.
 */
public record AgentState(int formatVersion, String releaseSha256, VersionState versions,
    Map<String, SavedService> services) {

  public static final int FORMAT_VERSION = 1;

  public static final AgentState EMPTY =
      new AgentState(FORMAT_VERSION, null, VersionState.EMPTY, Map.of());

  public AgentState {
    versions = versions == null ? VersionState.EMPTY : versions;
    services = services == null ? Map.of()
        : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(services));
  }

  /**
   * One service as saved: its supervised processes, and the cluster indexes whose cgroup was
   * populated (running daemons that have no supervised process of their own).
   */
  public record SavedService(ServiceState state, List<SavedProcess> processes,
      List<Integer> cgroups) {
    public SavedService {
      processes = processes == null ? List.of() : List.copyOf(processes);
      cgroups = cgroups == null ? List.of() : List.copyOf(cgroups);
    }

    public SavedService(ServiceState state, List<SavedProcess> processes) {
      this(state, processes, List.of());
    }
  }

  /** A supervised process: which cluster index and start command, and its identity. */
  public record SavedProcess(int clusterIndex, int commandIndex, long pid, Instant startedAt) {}
}
