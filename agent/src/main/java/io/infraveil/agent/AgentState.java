package io.infraveil.agent;

import io.infraveil.host.process.ProcessIdentity;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The on-disk form of {@code <agentDir>/agent_state.json}: versions, and per service of the
 * running release its state and the identities (pid + start ticks) of its supervised processes,
 * so a restarted agent can adopt them.
 *
 * <p>Format 2 added {@link SavedProcess#startTicks}; a format-1 file reads as format 2 with the
 * ticks unknown (those processes match by start time, as before) and is written as format 2.
 */
public record AgentState(int formatVersion, String releaseSha256, VersionState versions,
    Map<String, SavedService> services) {

  public static final int FORMAT_VERSION = 2;
  /** Formats this agent can read (and upgrades on read). */
  public static final int OLDEST_READABLE_FORMAT = 1;

  public static final AgentState EMPTY =
      new AgentState(FORMAT_VERSION, null, VersionState.EMPTY, Map.of());

  public AgentState {
    versions = versions == null ? VersionState.EMPTY : versions;
    services = services == null ? Map.of()
        : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(services));
  }

  /**
   * One service as saved. {@code restarts} is what it spent of its healing budget and
   * {@code lastFailure} its latest failure, so an agent that was killed hands its successor
   * neither a fresh budget nor a FAILED service without its cause; {@code cgroups} are the
   * cluster indexes whose cgroup was populated (running daemons that have no supervised process
   * of their own). All three are absent in files written before they existed, which read as
   * nothing spent, no failure and no daemon.
   */
  public record SavedService(ServiceState state, List<SavedProcess> processes,
      SavedRestarts restarts, String lastFailure, List<Integer> cgroups) {
    public SavedService {
      processes = processes == null ? List.of() : List.copyOf(processes);
      restarts = restarts == null ? SavedRestarts.NONE : restarts;
      lastFailure = lastFailure == null ? "" : lastFailure;
      cgroups = cgroups == null ? List.of() : List.copyOf(cgroups);
    }

    public SavedService(ServiceState state, List<SavedProcess> processes) {
      this(state, processes, SavedRestarts.NONE, "", List.of());
    }
  }

  /** A {@link RestartRecord} as saved ({@code lastRestartAt} null when there was none). */
  public record SavedRestarts(int counted, int quickStreak, Instant lastRestartAt) {
    public static final SavedRestarts NONE = new SavedRestarts(0, 0, null);

    public static SavedRestarts of(RestartRecord record) {
      return new SavedRestarts(record.counted(), record.quickStreak(),
          record.lastRestartAt().orElse(null));
    }

    public RestartRecord toRecord() {
      return new RestartRecord(Math.max(0, counted), Math.max(0, quickStreak),
          java.util.Optional.ofNullable(lastRestartAt));
    }
  }

  /**
   * A supervised process: which cluster index and start command, and its identity. {@code
   * startTicks} is {@link ProcessIdentity#UNKNOWN_TICKS} in a format-1 file.
   */
  public record SavedProcess(int clusterIndex, int commandIndex, long pid, Instant startedAt,
      long startTicks) {

    /** A process saved without its start ticks, as format 1 did. */
    public SavedProcess(int clusterIndex, int commandIndex, long pid, Instant startedAt) {
      this(clusterIndex, commandIndex, pid, startedAt, ProcessIdentity.UNKNOWN_TICKS);
    }

    public SavedProcess(int clusterIndex, int commandIndex, ProcessIdentity identity) {
      this(clusterIndex, commandIndex, identity.pid(), identity.startedAt(),
          identity.startTicks());
    }

    public ProcessIdentity identity() {
      return new ProcessIdentity(pid, startedAt, startTicks);
    }
  }
}
