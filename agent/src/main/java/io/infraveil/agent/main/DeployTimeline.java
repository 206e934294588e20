package io.infraveil.agent.main;

import io.infraveil.agent.AgentSnapshot;
import io.infraveil.agent.Health;
import io.infraveil.agent.ServiceState;
import io.infraveil.agent.report.ProtoMapper;
import io.infraveil.proto.v1.DeployTimings;
import io.infraveil.host.process.ProcStat;
import io.infraveil.host.process.ProcessStartClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * When each step of starting the desired version was reached in this agent, for the deploy's
 * pipeline telemetry: the agent process's start (the launcher spawned it), ready to act, payload
 * verified, release extracted, first start command running, every service healthy. Each moment
 * is taken once; the heartbeat carries them while the agent runs that version.
 */
final class DeployTimeline {

  /** How far a process's start, by its ticks, may read before the extraction that came first. */
  private static final Duration START_READING_SLACK = Duration.ofMillis(50);

  private final String sha256;
  private final Instant agentStartedAt;
  private final BiFunction<AgentSnapshot.ProcessSnapshot, Instant, Instant> startOf;
  private volatile Instant readyAt;
  private volatile Instant verifiedAt;
  private volatile Instant releaseReadyAt;
  private volatile Instant servicesStartedAt;
  private volatile Instant firstHealthyAt;

  /**
   * @param startOf a process's start, given the snapshot's time: for a real process its start
   *     ticks placed on the wall clock ({@link #startByTicks}), precise to about 20 ms
   */
  DeployTimeline(String sha256, Instant agentStartedAt,
      BiFunction<AgentSnapshot.ProcessSnapshot, Instant, Instant> startOf) {
    this.sha256 = Objects.requireNonNull(sha256, "sha256");
    this.agentStartedAt = agentStartedAt;
    this.startOf = Objects.requireNonNull(startOf, "startOf");
  }

  /** The timeline of {@code sha256} in this process, from its start by the boot clock. */
  static DeployTimeline ofThisProcess(String sha256) {
    ProcessHandle self = ProcessHandle.current();
    Instant started = ProcStat.startTicksOf(self.pid())
        .flatMap(ticks -> ProcessStartClock.startedAt(ticks, Instant.now()))
        .or(() -> self.info().startInstant()).orElse(null);
    return new DeployTimeline(sha256, started, DeployTimeline::startByTicks);
  }

  /**
   * The start by the process's ticks rather than its {@code startedAt}: the JDK adds the ticks
   * to a boot time given in whole seconds, which can put a process started 30 ms after its
   * release was extracted up to a second before it, and the start would be missed.
   */
  static Instant startByTicks(AgentSnapshot.ProcessSnapshot process, Instant now) {
    return ProcessStartClock.startedAt(process.startTicks(), now).orElse(process.startedAt());
  }

  void ready(Instant at) {
    if (readyAt == null) {
      readyAt = at;
    }
  }

  void verified(Instant at) {
    if (verifiedAt == null) {
      verifiedAt = at;
    }
  }

  void releaseReady(String sha, Instant at) {
    if (sha256.equals(sha) && releaseReadyAt == null) {
      releaseReadyAt = at;
    }
  }

  /**
   * Takes the start of the version's earliest process and, the first time every service runs
   * healthy, the latest of their first checks (the snapshot's time for services without one).
   */
  void observe(AgentSnapshot snapshot) {
    if (!snapshot.sha256().map(sha256::equals).orElse(false) || releaseReadyAt == null) {
      return; // another version, or one adopted rather than started by this agent
    }
    if (servicesStartedAt == null) {
      Instant earliest = releaseReadyAt.minus(START_READING_SLACK);
      snapshot.services().stream().flatMap(s -> s.processes().stream())
          .map(p -> startOf.apply(p, snapshot.at())).filter(t -> !t.isBefore(earliest))
          .min(Comparator.naturalOrder())
          .ifPresent(t -> servicesStartedAt = t.isBefore(releaseReadyAt) ? releaseReadyAt : t);
    }
    boolean healthy = !snapshot.services().isEmpty() && snapshot.services().stream()
        .allMatch(s -> s.state() == ServiceState.RUNNING && s.health() == Health.HEALTHY);
    if (firstHealthyAt == null && healthy) {
      firstHealthyAt = snapshot.services().stream()
          .map(s -> s.lastCheckAt().orElse(snapshot.at())).max(Comparator.naturalOrder())
          .orElse(snapshot.at());
    }
  }

  /** The moments known so far, when {@code running} is this timeline's version. */
  Optional<DeployTimings> timings(String running) {
    if (!sha256.equals(running) || releaseReadyAt == null) {
      return Optional.empty();
    }
    DeployTimings.Builder out = DeployTimings.newBuilder();
    if (agentStartedAt != null) {
      out.setAgentStartedAt(ProtoMapper.timestamp(agentStartedAt));
    }
    if (readyAt != null) {
      out.setAgentReadyAt(ProtoMapper.timestamp(readyAt));
    }
    if (verifiedAt != null) {
      out.setPayloadVerifiedAt(ProtoMapper.timestamp(verifiedAt));
    }
    out.setReleaseReadyAt(ProtoMapper.timestamp(releaseReadyAt));
    if (servicesStartedAt != null) {
      out.setServicesStartedAt(ProtoMapper.timestamp(servicesStartedAt));
    }
    if (firstHealthyAt != null) {
      out.setFirstHealthyAt(ProtoMapper.timestamp(firstHealthyAt));
    }
    return Optional.of(out.build());
  }
}
