package io.infraveil.agent.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
import io.infraveil.proto.v1.ServiceStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ProtoMapperTest {

  private static final Instant AT = Instant.parse("2024-05-01T10:00:00.123456789Z");
  private static final String SHA = "a".repeat(64);

  // Every agent constant maps to the proto constant of the same name, none to UNSPECIFIED.
  @ParameterizedTest
  @EnumSource(ServiceState.class)
  void serviceStatesMapByName(ServiceState state) {
    assertEquals("SERVICE_STATE_" + state.name(), ProtoMapper.state(state).name());
  }

  @ParameterizedTest
  @EnumSource(Health.class)
  void healthMapsByName(Health health) {
    assertEquals("HEALTH_STATUS_" + health.name(), ProtoMapper.health(health).name());
  }

  @ParameterizedTest
  @EnumSource(AgentEvent.Kind.class)
  void eventKindsMapByName(AgentEvent.Kind kind) {
    assertEquals("EVENT_KIND_" + kind.name(), ProtoMapper.eventKind(kind).name());
  }

  @ParameterizedTest
  @EnumSource(LogLine.Stream.class)
  void logStreamsMapByName(LogLine.Stream stream) {
    assertEquals("LOG_STREAM_" + stream.name(), ProtoMapper.stream(stream).name());
  }

  // NONE has no proto counterpart; a marked-bad version is MARKED_BAD whatever its status.
  @Test
  void versionStatus() {
    assertEquals(io.infraveil.proto.v1.VersionStatus.VERSION_STATUS_UNSPECIFIED,
        ProtoMapper.versionStatus(VersionStatus.NONE, false));
    assertEquals(io.infraveil.proto.v1.VersionStatus.VERSION_STATUS_CANDIDATE,
        ProtoMapper.versionStatus(VersionStatus.CANDIDATE, false));
    assertEquals(io.infraveil.proto.v1.VersionStatus.VERSION_STATUS_KNOWN_GOOD,
        ProtoMapper.versionStatus(VersionStatus.KNOWN_GOOD, false));
    assertEquals(io.infraveil.proto.v1.VersionStatus.VERSION_STATUS_MARKED_BAD,
        ProtoMapper.versionStatus(VersionStatus.CANDIDATE, true));
  }

  @Test
  void serviceCarriesEveryField() {
    ServiceStatus s = ProtoMapper.service(new AgentSnapshot.ServiceSnapshot("api",
        ServiceState.HEALING, Health.UNHEALTHY, Optional.of(AT),
        Optional.of(Duration.ofMillis(1500)), 3, 7,
        List.of(new AgentSnapshot.ProcessSnapshot(1, 4242, AT)), "PROCESS_EXITED",
        "PROCESS_EXITED: process 4241 (cluster 1) exited", 0, 0));
    assertEquals("api", s.getName());
    assertEquals(io.infraveil.proto.v1.ServiceState.SERVICE_STATE_HEALING, s.getState());
    assertEquals(HealthStatus.HEALTH_STATUS_UNHEALTHY, s.getHealth());
    assertEquals(AT.getEpochSecond(), s.getLastCheckAt().getSeconds());
    assertEquals(AT.getNano(), s.getLastCheckAt().getNanos());
    assertEquals(1, s.getLastCheckLatency().getSeconds());
    assertEquals(500_000_000, s.getLastCheckLatency().getNanos());
    assertEquals(3, s.getRestartsInWindow());
    assertEquals(7, s.getRestartsTotal());
    assertEquals(1, s.getProcessesCount());
    assertEquals(1, s.getProcesses(0).getClusterIndex());
    assertEquals(4242, s.getProcesses(0).getPid());
    assertEquals("PROCESS_EXITED", s.getReason());
    assertEquals("PROCESS_EXITED: process 4241 (cluster 1) exited", s.getLastFailure());
  }

  // A service that never ran a check leaves the check fields unset rather than at the epoch.
  @Test
  void absentCheckLeavesFieldsUnset() {
    ServiceStatus s = ProtoMapper.service(new AgentSnapshot.ServiceSnapshot("api",
        ServiceState.STARTING, Health.UNKNOWN, Optional.empty(), Optional.empty(), 0, 0,
        List.of(), ""));
    assertFalse(s.hasLastCheckAt());
    assertFalse(s.hasLastCheckLatency());
  }

  @Test
  void eventUsesTheFullPayloadRefWhenKnown() {
    PayloadRef full = PayloadRef.newBuilder().setSha256(SHA).setSize(10).setSequence(4)
        .setVersion("v4").build();
    HostEvent e = ProtoMapper.event(new AgentEvent(AT, AgentEvent.Kind.ROLLED_BACK, "",
        "DEPLOY_FAILURES_EXHAUSTED", "rolled back", SHA), "web", Map.of(SHA, full));
    assertEquals(EventKind.EVENT_KIND_ROLLED_BACK, e.getKind());
    assertEquals("web", e.getDeployment());
    assertEquals("", e.getService());
    assertEquals("DEPLOY_FAILURES_EXHAUSTED", e.getReason());
    assertEquals("rolled back", e.getMessage());
    assertEquals(full, e.getPayload());
    assertEquals(AT.getEpochSecond(), e.getAt().getSeconds());

    HostEvent unknown = ProtoMapper.event(new AgentEvent(AT, AgentEvent.Kind.VERSION_STARTED,
        "", "", "", SHA), "web", Map.of());
    assertEquals(PayloadRef.newBuilder().setSha256(SHA).build(), unknown.getPayload());
    HostEvent none = ProtoMapper.event(new AgentEvent(AT, AgentEvent.Kind.SERVICE_FAILED,
        "api", "", "", ""), "web", Map.of());
    assertFalse(none.hasPayload());
  }

  // Restart pressure is the busiest service over the budget; both ratios clamp to 1.
  @Test
  void pressure() {
    AgentSnapshot snapshot = new AgentSnapshot(AT, Optional.of(SHA), VersionStatus.CANDIDATE,
        Optional.empty(), List.of(service("a", 2), service("b", 6)), 5, 250, 1000, 17);
    Pressure p = ProtoMapper.pressure(snapshot, 8, 3);
    assertEquals(0.75, p.getRestartPressure());
    assertEquals(0.25, p.getLogQueuePressure());
    assertEquals(17, p.getDroppedLogLines());
    assertEquals(8, p.getDroppedEvents());

    AgentSnapshot over = new AgentSnapshot(AT, Optional.of(SHA), VersionStatus.CANDIDATE,
        Optional.empty(), List.of(service("a", 12)), 0, 0, 1000, 0);
    assertEquals(1.0, ProtoMapper.pressure(over, 8, 0).getRestartPressure());
    assertThrows(IllegalArgumentException.class, () -> ProtoMapper.pressure(over, 0, 0));
  }

  @Test
  void logLineCarriesThePayloadHash() {
    io.infraveil.proto.v1.LogLine line = ProtoMapper.logLine(
        new LogLine(AT, "api", 1, LogLine.Stream.STDERR, "boom", 41), SHA);
    assertEquals("api", line.getService());
    assertEquals(1, line.getClusterIndex());
    assertEquals(LogStream.LOG_STREAM_STDERR, line.getStream());
    assertEquals("boom", line.getText());
    assertEquals(41, line.getSequence());
    assertEquals(SHA, line.getPayloadSha256());
  }

  private static AgentSnapshot.ServiceSnapshot service(String name, int restarts) {
    return new AgentSnapshot.ServiceSnapshot(name, ServiceState.RUNNING, Health.HEALTHY,
        Optional.empty(), Optional.empty(), restarts, restarts, List.of(), "");
  }

  // OOM kills and the memory limit of a service reach its ServiceStatus unchanged.
  @Test
  void serviceCarriesOomKillsAndMemoryLimit() {
    ServiceStatus s = ProtoMapper.service(new AgentSnapshot.ServiceSnapshot("leaky",
        ServiceState.HEALING, Health.UNKNOWN, java.util.Optional.empty(),
        java.util.Optional.empty(), 1, 3, java.util.List.of(), "OOM_KILLED", "OOM_KILLED: killed", 3, 16L << 20));
    assertEquals(3, s.getOomKills());
    assertEquals(16L << 20, s.getMemoryLimitBytes());
    assertEquals("OOM_KILLED", s.getReason());
  }
}
