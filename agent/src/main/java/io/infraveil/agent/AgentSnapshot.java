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
    long logLinesDropped) {

  public AgentSnapshot {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(versionStatus, "versionStatus");
    Objects.requireNonNull(lastKnownGood, "lastKnownGood");
    services = List.copyOf(services);
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
      String reason) {

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
