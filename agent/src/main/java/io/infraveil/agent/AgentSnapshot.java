package io.infraveil.agent;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** What the agent is doing now, immutable, for the heartbeat. */
public record AgentSnapshot(
    Instant at,
    Optional<String> sha256,
    VersionStatus versionStatus,
    Optional<String> lastKnownGood,
    List<ServiceSnapshot> services,
    long eventsDropped,
    int logQueueSize,
    int logQueueCapacity,
    long logLinesDropped,
    String containment) {

  /** A snapshot that says nothing about containment (tests of other fields). */
  public AgentSnapshot(Instant at, Optional<String> sha256, VersionStatus versionStatus,
      Optional<String> lastKnownGood, List<ServiceSnapshot> services, long eventsDropped,
      int logQueueSize, int logQueueCapacity, long logLinesDropped) {
    this(at, sha256, versionStatus, lastKnownGood, services, eventsDropped, logQueueSize,
        logQueueCapacity, logLinesDropped, "");
  }

  public AgentSnapshot {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(versionStatus, "versionStatus");
    Objects.requireNonNull(lastKnownGood, "lastKnownGood");
    services = List.copyOf(services);
    containment = containment == null ? "" : containment;
  }

  /** The named service, if the running version has it. */
  public Optional<ServiceSnapshot> service(String name) {
    return services.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /**
   * One service of the running version. {@code restartsCounted} are the restarts counted against
   * the healing budget (since the service was last healthy for the stable period);
   * {@code restartsTotal} every restart since this agent started the version. {@code reason} is
   * empty while it runs, the failure's cause while it heals and {@code BUDGET_EXHAUSTED} once
   * FAILED; {@code lastFailure} the latest failure as {@code CAUSE: message}, empty until one;
   * {@code oomKills} the OOM kills since the version started and {@code memoryLimitBytes} the
   * instance's memory limit (0 when unlimited).
   */
  public record ServiceSnapshot(
      String name,
      ServiceState state,
      Health health,
      Optional<Instant> lastCheckAt,
      Optional<Duration> lastCheckLatency,
      int restartsCounted,
      long restartsTotal,
      List<ProcessSnapshot> processes,
      String reason,
      String lastFailure,
      long oomKills,
      long memoryLimitBytes,
      List<PortSnapshot> ports) {

    /** A service without ports. */
    public ServiceSnapshot(String name, ServiceState state, Health health,
        Optional<Instant> lastCheckAt, Optional<Duration> lastCheckLatency, int restartsCounted,
        long restartsTotal, List<ProcessSnapshot> processes, String reason, String lastFailure,
        long oomKills, long memoryLimitBytes) {
      this(name, state, health, lastCheckAt, lastCheckLatency, restartsCounted, restartsTotal,
          processes, reason, lastFailure, oomKills, memoryLimitBytes, List.of());
    }

    /** A service that has not failed since this agent started the version, without limits. */
    public ServiceSnapshot(String name, ServiceState state, Health health,
        Optional<Instant> lastCheckAt, Optional<Duration> lastCheckLatency, int restartsCounted,
        long restartsTotal, List<ProcessSnapshot> processes, String reason) {
      this(name, state, health, lastCheckAt, lastCheckLatency, restartsCounted, restartsTotal,
          processes, reason, "", 0, 0);
    }

    public ServiceSnapshot {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(health, "health");
      Objects.requireNonNull(lastCheckAt, "lastCheckAt");
      Objects.requireNonNull(lastCheckLatency, "lastCheckLatency");
      processes = List.copyOf(processes);
      reason = reason == null ? "" : reason;
      lastFailure = lastFailure == null ? "" : lastFailure;
      ports = ports == null ? List.of() : List.copyOf(ports);
    }

    /** The same view with the restarts counted against the budget at another moment. */
    public ServiceSnapshot withRestartsCounted(int counted) {
      return new ServiceSnapshot(name, state, health, lastCheckAt, lastCheckLatency, counted,
          restartsTotal, processes, reason, lastFailure, oomKills, memoryLimitBytes, ports);
    }
  }

  /** A port an instance was given: {@code INFRAVEIL_PORT_<NAME>} of cluster index i. */
  public record PortSnapshot(String name, int clusterIndex, int port) {
    public PortSnapshot {
      Objects.requireNonNull(name, "name");
    }
  }

  /** A supervised process (a start command still running after the start watch). */
  public record ProcessSnapshot(int clusterIndex, long pid, Instant startedAt, long startTicks) {

    /** A process whose start ticks are not known (matched by start time). */
    public ProcessSnapshot(int clusterIndex, long pid, Instant startedAt) {
      this(clusterIndex, pid, startedAt, io.infraveil.host.process.ProcessIdentity.UNKNOWN_TICKS);
    }

    public io.infraveil.host.process.ProcessIdentity identity() {
      return new io.infraveil.host.process.ProcessIdentity(pid, startedAt, startTicks);
    }
  }
}
