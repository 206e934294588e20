package io.infraveil.agent.main;

import io.infraveil.agent.AgentSnapshot;
import io.infraveil.agent.Health;
import io.infraveil.agent.ServiceState;
import io.infraveil.agent.report.ProtoMapper;
import io.infraveil.proto.v1.DeployTimings;
import java.time.Instant;
import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;

/**
 * When each step of starting the desired version was reached in this agent, for the deploy's
 * pipeline telemetry: the agent process's start (the launcher spawned it), ready to act, payload
 * verified, release extracted, first start command running, every service healthy. Each moment
 * is taken once; the heartbeat carries them while the agent runs that version.
 */
final class DeployTimeline {

  private final String sha256;
  private final Instant agentStartedAt;
  private volatile Instant readyAt;
  private volatile Instant verifiedAt;
  private volatile Instant releaseReadyAt;
  private volatile Instant servicesStartedAt;
  private volatile Instant firstHealthyAt;

  DeployTimeline(String sha256, Instant agentStartedAt) {
    this.sha256 = Objects.requireNonNull(sha256, "sha256");
    this.agentStartedAt = agentStartedAt;
  }

  /** The timeline of {@code sha256} in this process, whose start the OS knows. */
  static DeployTimeline ofThisProcess(String sha256) {
    return new DeployTimeline(sha256,
        ProcessHandle.current().info().startInstant().orElse(null));
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
      snapshot.services().stream().flatMap(s -> s.processes().stream())
          .map(AgentSnapshot.ProcessSnapshot::startedAt).filter(t -> !t.isBefore(releaseReadyAt))
          .min(Comparator.naturalOrder()).ifPresent(t -> servicesStartedAt = t);
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
