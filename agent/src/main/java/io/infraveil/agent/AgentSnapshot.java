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

  /** One service of the running version. */
  public record ServiceSnapshot(
      String name,
      ServiceState state,
      Health health,
      Optional<Instant> lastCheckAt,
      Optional<Duration> lastCheckLatency,
      int restartsInWindow,
      long restartsTotal,
      List<ProcessSnapshot> processes,
      String reason,
      long oomKills,
      long memoryLimitBytes) {

    /** A service without limits that was never OOM-killed. */
    public ServiceSnapshot(String name, ServiceState state, Health health,
        Optional<Instant> lastCheckAt, Optional<Duration> lastCheckLatency,
        int restartsInWindow, long restartsTotal, List<ProcessSnapshot> processes,
        String reason) {
      this(name, state, health, lastCheckAt, lastCheckLatency, restartsInWindow, restartsTotal,
          processes, reason, 0, 0);
    }

    public ServiceSnapshot {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(health, "health");
      Objects.requireNonNull(lastCheckAt, "lastCheckAt");
      Objects.requireNonNull(lastCheckLatency, "lastCheckLatency");
      processes = List.copyOf(processes);
      reason = reason == null ? "" : reason;
    }
  }

  /** A supervised process (a start command still running after the start watch). */
  public record ProcessSnapshot(int clusterIndex, long pid, Instant startedAt) {}
}
