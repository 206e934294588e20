package io.infraveil.agent.report;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.infraveil.agent.AgentEvent;
import io.infraveil.agent.AgentSnapshot;
import io.infraveil.agent.Health;
import io.infraveil.agent.LogLine;
import io.infraveil.agent.ServiceState;
import io.infraveil.agent.VersionStatus;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.LogStream;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.Pressure;
import io.infraveil.proto.v1.ServiceProcess;
import io.infraveil.proto.v1.ServiceStatus;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * The one place where the agent's own types become {@code infraveil.v1} messages. Every enum
 * switch is exhaustive and ends in an {@link AssertionError}, so a constant added on either side
 * fails a test instead of being reported as something else.
 */
public final class ProtoMapper {

  private ProtoMapper() {}

  public static io.infraveil.proto.v1.ServiceState state(ServiceState state) {
    return switch (Objects.requireNonNull(state, "state")) {
      case STARTING -> io.infraveil.proto.v1.ServiceState.SERVICE_STATE_STARTING;
      case RUNNING -> io.infraveil.proto.v1.ServiceState.SERVICE_STATE_RUNNING;
      case HEALING -> io.infraveil.proto.v1.ServiceState.SERVICE_STATE_HEALING;
      case FAILED -> io.infraveil.proto.v1.ServiceState.SERVICE_STATE_FAILED;
      case STOPPED -> io.infraveil.proto.v1.ServiceState.SERVICE_STATE_STOPPED;
      default -> throw new AssertionError("unmapped service state " + state);
    };
  }

  public static HealthStatus health(Health health) {
    return switch (Objects.requireNonNull(health, "health")) {
      case UNKNOWN -> HealthStatus.HEALTH_STATUS_UNKNOWN;
      case HEALTHY -> HealthStatus.HEALTH_STATUS_HEALTHY;
      case UNHEALTHY -> HealthStatus.HEALTH_STATUS_UNHEALTHY;
      default -> throw new AssertionError("unmapped health " + health);
    };
  }

  /**
   * The standing of the running version; a version this agent marked bad (run again only
   * because the launcher asked to retry it) is reported as MARKED_BAD whatever its status.
   */
  public static io.infraveil.proto.v1.VersionStatus versionStatus(VersionStatus status,
      boolean markedBad) {
    Objects.requireNonNull(status, "status");
    if (markedBad) {
      return io.infraveil.proto.v1.VersionStatus.VERSION_STATUS_MARKED_BAD;
    }
    return switch (status) {
      case NONE -> io.infraveil.proto.v1.VersionStatus.VERSION_STATUS_UNSPECIFIED;
      case CANDIDATE -> io.infraveil.proto.v1.VersionStatus.VERSION_STATUS_CANDIDATE;
      case KNOWN_GOOD -> io.infraveil.proto.v1.VersionStatus.VERSION_STATUS_KNOWN_GOOD;
      default -> throw new AssertionError("unmapped version status " + status);
    };
  }

  public static EventKind eventKind(AgentEvent.Kind kind) {
    return switch (Objects.requireNonNull(kind, "kind")) {
      case PAYLOAD_REJECTED -> EventKind.EVENT_KIND_PAYLOAD_REJECTED;
      case SERVICE_UNHEALTHY -> EventKind.EVENT_KIND_SERVICE_UNHEALTHY;
      case SERVICE_RECOVERED -> EventKind.EVENT_KIND_SERVICE_RECOVERED;
      case SERVICE_FAILED -> EventKind.EVENT_KIND_SERVICE_FAILED;
      case DEPLOY_FAILED -> EventKind.EVENT_KIND_DEPLOY_FAILED;
      case ROLLED_BACK -> EventKind.EVENT_KIND_ROLLED_BACK;
      case VERSION_KNOWN_GOOD -> EventKind.EVENT_KIND_VERSION_KNOWN_GOOD;
      case VERSION_STARTED -> EventKind.EVENT_KIND_VERSION_STARTED;
      default -> throw new AssertionError("unmapped event kind " + kind);
    };
  }

  public static LogStream stream(LogLine.Stream stream) {
    return switch (Objects.requireNonNull(stream, "stream")) {
      case STDOUT -> LogStream.LOG_STREAM_STDOUT;
      case STDERR -> LogStream.LOG_STREAM_STDERR;
      default -> throw new AssertionError("unmapped log stream " + stream);
    };
  }

  /**
   * The full reference of {@code sha256} when the agent knows it (the desired payload), else a
   * reference carrying only the hash (a known good version kept on disk).
   */
  public static PayloadRef payload(String sha256, Map<String, PayloadRef> known) {
    Objects.requireNonNull(sha256, "sha256");
    PayloadRef ref = known.get(sha256);
    return ref != null ? ref : PayloadRef.newBuilder().setSha256(sha256).build();
  }

  public static HostEvent event(AgentEvent event, String deployment,
      Map<String, PayloadRef> known) {
    HostEvent.Builder b = HostEvent.newBuilder()
        .setAt(timestamp(event.at()))
        .setKind(eventKind(event.kind()))
        .setDeployment(deployment)
        .setService(event.service())
        .setReason(event.reason())
        .setMessage(event.message());
    if (!event.sha256().isEmpty()) {
      b.setPayload(payload(event.sha256(), known));
    }
    return b.build();
  }

  public static ServiceStatus service(AgentSnapshot.ServiceSnapshot s) {
    ServiceStatus.Builder b = ServiceStatus.newBuilder()
        .setName(s.name())
        .setState(state(s.state()))
        .setHealth(health(s.health()))
        .setRestartsInWindow(s.restartsCounted())
        .setRestartsTotal((int) Math.min(Integer.MAX_VALUE, s.restartsTotal()))
        .setReason(s.reason())
        .setLastFailure(s.lastFailure())
        .setOomKills(s.oomKills())
        .setMemoryLimitBytes(s.memoryLimitBytes());
    s.lastCheckAt().ifPresent(at -> b.setLastCheckAt(timestamp(at)));
    s.lastCheckLatency().ifPresent(d -> b.setLastCheckLatency(duration(d)));
    for (AgentSnapshot.ProcessSnapshot p : s.processes()) {
      b.addProcesses(ServiceProcess.newBuilder()
          .setClusterIndex(p.clusterIndex())
          .setPid(p.pid())
          .setStartedAt(timestamp(p.startedAt())));
    }
    for (AgentSnapshot.PortSnapshot p : s.ports()) {
      b.addPorts(io.infraveil.proto.v1.ServicePortAssignment.newBuilder()
          .setName(p.name())
          .setClusterIndex(p.clusterIndex())
          .setPort(p.port()));
    }
    return b.build();
  }

  /**
   * Pressure figures: restart pressure is the busiest service's restarts counted over the
   * healing budget; log queue pressure is the queue's fill ratio; both clamp to 0..1.
   */
  public static Pressure pressure(AgentSnapshot snapshot, int healingMaxAttempts,
      long extraDroppedEvents) {
    if (healingMaxAttempts < 1) {
      throw new IllegalArgumentException("healingMaxAttempts must be >= 1, got "
          + healingMaxAttempts);
    }
    int restarts = snapshot.services().stream()
        .mapToInt(AgentSnapshot.ServiceSnapshot::restartsCounted).max().orElse(0);
    double logPressure = snapshot.logQueueCapacity() == 0 ? 0
        : (double) snapshot.logQueueSize() / snapshot.logQueueCapacity();
    return Pressure.newBuilder()
        .setRestartPressure(clamp((double) restarts / healingMaxAttempts))
        .setLogQueuePressure(clamp(logPressure))
        .setDroppedLogLines(snapshot.logLinesDropped())
        .setDroppedEvents(snapshot.eventsDropped() + extraDroppedEvents)
        .build();
  }

  public static io.infraveil.proto.v1.LogLine logLine(LogLine line, String payloadSha256) {
    return io.infraveil.proto.v1.LogLine.newBuilder()
        .setAt(timestamp(line.at()))
        .setService(line.service())
        .setClusterIndex(line.clusterIndex())
        .setStream(stream(line.stream()))
        .setText(line.text())
        .setSequence(line.sequence())
        .setPayloadSha256(payloadSha256 == null ? "" : payloadSha256)
        .build();
  }

  public static Timestamp timestamp(Instant at) {
    return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
  }

  public static Duration duration(java.time.Duration d) {
    return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  private static double clamp(double value) {
    return Math.max(0, Math.min(1, value));
  }
}
