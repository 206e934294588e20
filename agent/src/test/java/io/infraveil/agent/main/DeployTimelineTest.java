package io.infraveil.agent.main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.agent.AgentSnapshot;
import io.infraveil.agent.Health;
import io.infraveil.agent.ServiceState;
import io.infraveil.agent.VersionStatus;
import io.infraveil.proto.v1.DeployTimings;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The agent's side of a deploy: each moment taken once, only for the version it started. */
class DeployTimelineTest {

  private static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");
  private static final String SHA = "cd".repeat(32);
  private static final String OLD = "ef".repeat(32);
  private static final java.util.function.BiFunction<AgentSnapshot.ProcessSnapshot, Instant, Instant>
      BY_RECORD = (process, now) -> process.startedAt();

  @Test
  void takesEachMomentOnceFromTheAgentsStartToEveryServiceHealthy() {
    DeployTimeline timeline = new DeployTimeline(SHA, T0, BY_RECORD);
    timeline.ready(at(1_000));
    timeline.verified(at(1_200));
    timeline.releaseReady(OLD, at(1_250)); // a rollback target extracted on the way: not ours
    timeline.releaseReady(SHA, at(1_300));
    timeline.releaseReady(SHA, at(9_000));
    // The old version's process (started before) is no start of this version.
    timeline.observe(snapshot(SHA, ServiceState.STARTING, Health.UNKNOWN, at(500), at(1_350), null));
    timeline.observe(snapshot(SHA, ServiceState.RUNNING, Health.UNHEALTHY, at(1_350), at(1_350), at(3_400)));
    timeline.observe(snapshot(SHA, ServiceState.RUNNING, Health.HEALTHY, at(1_350), at(1_350), at(3_500)));
    timeline.observe(snapshot(SHA, ServiceState.RUNNING, Health.HEALTHY, at(1_350), at(1_350), at(8_500)));

    DeployTimings timings = timeline.timings(SHA).orElseThrow();
    assertEquals(T0.getEpochSecond(), timings.getAgentStartedAt().getSeconds());
    assertEquals(ms(at(1_000)), ms(timings.getAgentReadyAt()));
    assertEquals(ms(at(1_200)), ms(timings.getPayloadVerifiedAt()));
    assertEquals(ms(at(1_300)), ms(timings.getReleaseReadyAt()));
    assertEquals(ms(at(1_350)), ms(timings.getServicesStartedAt()));
    assertEquals(ms(at(3_500)), ms(timings.getFirstHealthyAt()), "the first check that passed, never a later one");
  }

  @Test
  void saysNothingForAnotherVersionOrOneItAdoptedRatherThanStarted() {
    DeployTimeline timeline = new DeployTimeline(SHA, T0, BY_RECORD);
    timeline.ready(at(1_000));
    timeline.observe(snapshot(SHA, ServiceState.RUNNING, Health.HEALTHY, at(10), at(10), at(20)));
    assertFalse(timeline.timings(SHA).isPresent(), "adopted: nothing was extracted or started here");
    timeline.releaseReady(SHA, at(1_300));
    assertTrue(timeline.timings(SHA).isPresent());
    assertFalse(timeline.timings(OLD).isPresent(), "a rollback target runs: not this deploy");
  }

  @Test
  void aStartReadAFewMillisecondsBeforeTheExtractionCountsAsStartingAtTheExtraction() {
    // Start ticks and uptime are read to 10 ms each: a process started 5 ms after its release
    // was extracted may read as 20 ms before. It is still this deploy's start.
    DeployTimeline timeline = new DeployTimeline(SHA, T0, BY_RECORD);
    timeline.ready(at(1_000));
    timeline.verified(at(1_200));
    timeline.releaseReady(SHA, at(1_300));
    timeline.observe(snapshot(SHA, ServiceState.RUNNING, Health.HEALTHY, at(200), at(1_280), at(1_400)));

    DeployTimings timings = timeline.timings(SHA).orElseThrow();
    assertEquals(ms(at(1_300)), ms(timings.getServicesStartedAt()));
    assertEquals(ms(at(1_400)), ms(timings.getFirstHealthyAt()));
  }

  @Test
  void aRealProcessStartIsPlacedByItsTicksNotTheWholeSecondBootTime() throws Exception {
    Instant before = Instant.now();
    Process sleep = new ProcessBuilder("sleep", "30").start();
    Instant after = Instant.now();
    try {
      long ticks = io.infraveil.host.process.ProcStat.startTicksOf(sleep.pid()).orElseThrow();
      Instant start = DeployTimeline.startByTicks(
          new AgentSnapshot.ProcessSnapshot(0, sleep.pid(), T0, ticks), Instant.now());
      // Ticks and uptime each count in 10 ms steps; a late read of the uptime moves it earlier.
      assertTrue(!start.isBefore(before.minusMillis(300)) && !start.isAfter(after.plusMillis(30)),
          "started between " + before + " and " + after + ", placed at " + start);
    } finally {
      sleep.destroyForcibly().waitFor();
    }
  }

  private static AgentSnapshot snapshot(String sha, ServiceState state, Health health,
      Instant oldProcess, Instant newProcess, Instant checkedAt) {
    List<AgentSnapshot.ProcessSnapshot> processes = List.of(
        new AgentSnapshot.ProcessSnapshot(0, 42, oldProcess, 1),
        new AgentSnapshot.ProcessSnapshot(1, 43, newProcess, 2));
    return new AgentSnapshot(at(10_000), Optional.of(sha), VersionStatus.CANDIDATE, Optional.empty(),
        List.of(new AgentSnapshot.ServiceSnapshot("api", state, health,
            Optional.ofNullable(checkedAt), Optional.empty(), 0, 0, processes, "")),
        0, 0, 10, 0);
  }

  private static Instant at(long millis) {
    return T0.plusMillis(millis);
  }

  private static long ms(Instant at) {
    return at.toEpochMilli();
  }

  private static long ms(com.google.protobuf.Timestamp at) {
    return at.getSeconds() * 1000 + at.getNanos() / 1_000_000;
  }
}
