package io.infraveil.controlplane.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The rollout rules as a pure function: no store, no clock, every boundary by hand. */
final class RolloutPolicyTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Rollout.Version V1 = new Rollout.Version("1".repeat(64), 1, null, "v1");
  private static final Rollout.Version V2 = new Rollout.Version("2".repeat(64), 2, null, "v2");

  private static Rollout rollout(Strategy strategy, Rollout.Version revertTo, String... hosts) {
    List<RolloutHostEntry> entries = new java.util.ArrayList<>();
    for (int i = 0; i < hosts.length; i++) {
      entries.add(RolloutHostEntry.pending(hosts[i], i, null));
    }
    return new Rollout(1, "web", "deploy", V2, 1, revertTo, strategy, Phase.RUNNING, false, 0, null, "op", T0,
        null, entries);
  }

  private static Map<String, RolloutPolicy.Observation> all(RolloutPolicy.Observation o, String... hosts) {
    Map<String, RolloutPolicy.Observation> out = new HashMap<>();
    for (String h : hosts) {
      out.put(h, o);
    }
    return out;
  }

  private static final RolloutPolicy.Observation ONLINE_OLD =
      new RolloutPolicy.Observation(true, false, false, null, "v1");
  private static final RolloutPolicy.Observation HEALTHY_NEW =
      new RolloutPolicy.Observation(true, true, true, null, "v2");

  /** Proves which outcome a failed host gives, by auto_revert and whether there is a version to go back to. */
  @ParameterizedTest(name = "auto_revert {0}, revert target {1} -> {2}")
  @CsvSource({
      "true,  true,  REVERTED",
      "true,  false, FAILED",
      "false, true,  FAILED",
      "false, false, FAILED"})
  void failedHostEndsTheRollout(boolean autoRevert, boolean hasTarget, Phase expected) {
    Strategy strategy = new Strategy(1, 0, Duration.ofSeconds(10), Duration.ofMinutes(5), false, autoRevert);
    Rollout moved = RolloutPolicy.decide(rollout(strategy, hasTarget ? V1 : null, "a", "b"),
        all(ONLINE_OLD, "a", "b"), false, null, T0).rollout();
    var failing = all(ONLINE_OLD, "a", "b");
    failing.put("a", new RolloutPolicy.Observation(true, false, false, "rolled back", "v1"));
    RolloutPolicy.Decision decision = RolloutPolicy.decide(moved, failing, false, null, T0.plusSeconds(1));
    assertEquals(expected, decision.rollout().phase());
    assertEquals(T0.plusSeconds(1), decision.rollout().finishedAt());
    assertEquals(HostPhase.PENDING, decision.rollout().host("b").phase(), "no further host moved");
    assertEquals(expected == Phase.REVERTED ? HostPhase.REVERTED : HostPhase.FAILED,
        decision.rollout().host("a").phase());
    assertEquals("rolled back", decision.rollout().host("a").detail());
  }

  /**
   * Proves a signed version is not put back under its old sequence (pinned hosts would refuse
   * it as a replay): the rollout fails and says how to revert.
   */
  @Test
  void aSignedRevertTargetFailsTheRolloutInsteadOfReverting() {
    Strategy strategy = new Strategy(1, 0, Duration.ofSeconds(10), Duration.ofMinutes(5), false, true);
    Rollout.Version signedV1 = new Rollout.Version(V1.sha256(), V1.sequence(), new byte[] {1, 2, 3}, V1.label());
    Rollout moved = RolloutPolicy.decide(rollout(strategy, signedV1, "a", "b"),
        all(ONLINE_OLD, "a", "b"), false, null, T0).rollout();
    var failing = all(ONLINE_OLD, "a", "b");
    failing.put("a", new RolloutPolicy.Observation(true, false, false, "rolled back", "v1"));
    RolloutPolicy.Decision decision = RolloutPolicy.decide(moved, failing, false, null, T0.plusSeconds(1));
    assertEquals(Phase.FAILED, decision.rollout().phase());
    assertEquals(HostPhase.FAILED, decision.rollout().host("a").phase());
    assertTrue(decision.rollout().reason().contains("is signed") && decision.rollout().reason()
        .contains("ctl deploy --sign"), decision.rollout().reason());
  }

  /** Proves batch sizes: the canaries alone first, then max_parallel at a time. */
  @Test
  void canariesThenMaxParallel() {
    Strategy strategy = new Strategy(2, 1, Duration.ZERO.plusSeconds(1), Duration.ofMinutes(5), true, true);
    Rollout r = rollout(strategy, V1, "a", "b", "c", "d", "e");
    var seen = all(ONLINE_OLD, "a", "b", "c", "d", "e");
    List<List<String>> batches = new java.util.ArrayList<>();
    Instant now = T0;
    for (int round = 0; round < 20 && !r.phase().terminal(); round++) {
      RolloutPolicy.Decision d = RolloutPolicy.decide(r, seen, false, null, now);
      for (RolloutPolicy.Step step : d.steps()) {
        if (step.kind() == RolloutPolicy.StepKind.BATCH_STARTED) {
          int batch = step.batch();
          batches.add(d.rollout().hosts().stream().filter(h -> h.batch() == batch).map(RolloutHostEntry::host)
              .toList());
        }
      }
      r = d.rollout();
      r.hosts().stream().filter(h -> h.phase() == HostPhase.UPDATING).forEach(h -> seen.put(h.host(), HEALTHY_NEW));
      now = now.plusSeconds(1);
    }
    assertEquals(List.of(List.of("a"), List.of("b", "c"), List.of("d", "e")), batches);
    assertEquals(Phase.SUCCEEDED, r.phase());
    assertEquals(3, strategy.batches(5));
  }

  /** Proves healthy_deadline is a boundary: one instant before it the host still updates. */
  @Test
  void deadlineBoundary() {
    Strategy strategy = new Strategy(1, 0, Duration.ofSeconds(10), Duration.ofSeconds(60), false, true);
    Rollout moved = RolloutPolicy.decide(rollout(strategy, V1, "a"), all(ONLINE_OLD, "a"), false, null, T0)
        .rollout();
    var starting = all(new RolloutPolicy.Observation(true, true, false, null, "v2, api starting"), "a");
    Rollout before = RolloutPolicy.decide(moved, starting, false, null, T0.plusSeconds(60).minusNanos(1)).rollout();
    assertEquals(HostPhase.UPDATING, before.host("a").phase());
    Rollout at = RolloutPolicy.decide(moved, starting, false, null, T0.plusSeconds(60)).rollout();
    assertEquals(HostPhase.REVERTED, at.host("a").phase());
    assertEquals("not healthy within healthy_deadline 1m (reports: v2, api starting)", at.host("a").detail());
    // A resume counts the deadline from then on.
    Rollout resumed = RolloutPolicy.decide(moved, starting, false, T0.plusSeconds(30), T0.plusSeconds(60)).rollout();
    assertEquals(HostPhase.UPDATING, resumed.host("a").phase());
  }

  /** Proves a paused or finished rollout is left exactly as it is. */
  @Test
  void pausedOrFinishedChangesNothing() {
    Rollout r = rollout(Strategy.DEFAULTS, V1, "a");
    RolloutPolicy.Decision paused = RolloutPolicy.decide(r, all(ONLINE_OLD, "a"), true, null, T0);
    assertFalse(paused.changed());
    assertEquals(r, paused.rollout());
    Rollout done = r.withPhase(Phase.SUCCEEDED, null, T0);
    assertFalse(RolloutPolicy.decide(done, all(ONLINE_OLD, "a"), false, null, T0).changed());
    assertNull(done.reason());
  }
}
