package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.time.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class VersionTrackerTest {

  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));

  private VersionTracker tracker(VersionState saved) {
    return new VersionTracker(Duration.ofSeconds(60),
        new RollbackPolicy(4, Duration.ofMinutes(10)), saved);
  }

  private void becomeKnownGood(VersionTracker tracker, String sha) {
    tracker.started(sha);
    tracker.observe(true, clock.instant());
    clock.advance(Duration.ofSeconds(60));
    assertTrue(tracker.observe(true, clock.instant()));
  }

  // A candidate becomes known good only after 60 s of continuous health.
  @Test
  void candidateBecomesKnownGoodAfterStabilization() {
    VersionTracker tracker = tracker(VersionState.EMPTY);
    assertEquals(VersionStatus.CANDIDATE, tracker.started("v1"));
    assertFalse(tracker.observe(true, clock.instant()));
    clock.advance(Duration.ofSeconds(59));
    assertFalse(tracker.observe(true, clock.instant()));
    assertEquals(VersionStatus.CANDIDATE, tracker.status());
    clock.advance(Duration.ofSeconds(1));
    assertTrue(tracker.observe(true, clock.instant()));
    assertEquals(VersionStatus.KNOWN_GOOD, tracker.status());
    assertEquals(Optional.of("v1"), tracker.lastKnownGood());
    assertFalse(tracker.observe(true, clock.instant()), "reported once");
  }

  // An unhealthy moment restarts the stabilization period.
  @Test
  void unhealthyObservationRestartsStabilization() {
    VersionTracker tracker = tracker(VersionState.EMPTY);
    tracker.started("v1");
    tracker.observe(true, clock.instant());
    clock.advance(Duration.ofSeconds(50));
    tracker.observe(false, clock.instant());
    clock.advance(Duration.ofSeconds(1));
    tracker.observe(true, clock.instant());
    clock.advance(Duration.ofSeconds(59));
    assertFalse(tracker.observe(true, clock.instant()));
    clock.advance(Duration.ofSeconds(1));
    assertTrue(tracker.observe(true, clock.instant()));
  }

  // The 4th deploy failure within 10 min rolls back to the last known good and marks the bad one.
  @Test
  void fourthFailureInWindowRollsBack() {
    VersionTracker tracker = tracker(VersionState.EMPTY);
    becomeKnownGood(tracker, "good");
    tracker.started("bad");
    for (int i = 1; i <= 3; i++) {
      RollbackDecision d = tracker.deployFailure(clock.instant());
      assertEquals(RollbackDecision.Action.KEEP, d.action());
      assertEquals(RollbackDecision.Reason.BELOW_LIMIT, d.reason());
      assertEquals(i, d.failuresInWindow());
      clock.advance(Duration.ofMinutes(3));
    }
    RollbackDecision fourth = tracker.deployFailure(clock.instant());
    assertEquals(RollbackDecision.Action.ROLL_BACK, fourth.action());
    assertEquals(RollbackDecision.Reason.LIMIT_REACHED, fourth.reason());
    assertEquals(Optional.of("good"), fourth.target());
    assertTrue(tracker.isMarkedBad("bad"));
    assertFalse(tracker.isMarkedBad("good"));
    assertEquals(VersionStatus.KNOWN_GOOD, tracker.started("good"));
  }

  // Failures spread wider than the window never reach the limit.
  @Test
  void failuresOutsideWindowDoNotCount() {
    VersionTracker tracker = tracker(VersionState.EMPTY);
    becomeKnownGood(tracker, "good");
    tracker.started("flaky");
    for (int i = 0; i < 6; i++) {
      RollbackDecision d = tracker.deployFailure(clock.instant());
      assertEquals(RollbackDecision.Action.KEEP, d.action(), "failure " + i);
      clock.advance(Duration.ofMinutes(4)); // window of 10 min holds at most 3
    }
  }

  // Without a known good version, the limit is reported but nothing is rolled back.
  @Test
  void noKnownGoodMeansKeep() {
    VersionTracker tracker = tracker(VersionState.EMPTY);
    tracker.started("first");
    RollbackDecision d = null;
    for (int i = 0; i < 4; i++) {
      d = tracker.deployFailure(clock.instant());
    }
    assertEquals(RollbackDecision.Action.KEEP, d.action());
    assertEquals(RollbackDecision.Reason.NO_KNOWN_GOOD, d.reason());
    assertFalse(tracker.isMarkedBad("first"));
  }

  // Failures of a known good version are healed, never counted, so rollback cannot loop.
  @Test
  void knownGoodFailuresDoNotCount() {
    VersionTracker tracker = tracker(VersionState.EMPTY);
    becomeKnownGood(tracker, "good");
    for (int i = 0; i < 5; i++) {
      RollbackDecision d = tracker.deployFailure(clock.instant());
      assertEquals(RollbackDecision.Reason.NOT_CANDIDATE, d.reason());
      assertEquals(0, d.failuresInWindow());
    }
  }

  // Keeps the last 3 known good versions, newest first, and survives a save/restore.
  @Test
  void keepsThreeKnownGoodNewestFirstAcrossRestore() {
    VersionTracker tracker = tracker(VersionState.EMPTY);
    for (String sha : List.of("a", "b", "c", "d")) {
      becomeKnownGood(tracker, sha);
    }
    tracker.started("e");
    tracker.deployFailure(clock.instant());
    VersionState state = tracker.state(clock.instant());
    assertEquals(List.of("d", "c", "b"), state.knownGood());
    assertEquals(1, state.deployFailures().size());
    VersionTracker restored = tracker(state);
    assertEquals(Optional.of("e"), restored.current());
    assertEquals(VersionStatus.CANDIDATE, restored.status());
    for (int i = 0; i < 2; i++) {
      restored.deployFailure(clock.instant());
    }
    RollbackDecision fourth = restored.deployFailure(clock.instant());
    assertEquals(RollbackDecision.Action.ROLL_BACK, fourth.action());
    assertEquals(Optional.of("d"), fourth.target());
    assertEquals(Set.of("e"), restored.state(clock.instant()).markedBad());
  }

  // A version marked bad, retried on purpose and then stable is unmarked and known good, so the
  // next agent start (without the retry flag) runs it instead of skipping it.
  @Test
  void retriedBadVersionThatStabilizesIsUnmarked() {
    VersionTracker tracker = tracker(new VersionState("v1", VersionStatus.KNOWN_GOOD,
        List.of("v1"), Set.of("v2"), List.of()));
    assertTrue(tracker.isMarkedBad("v2"));
    assertEquals(VersionStatus.CANDIDATE, tracker.started("v2"));
    assertTrue(tracker.isMarkedBad("v2"), "still marked until it proves itself");
    becomeKnownGood(tracker, "v2");
    assertFalse(tracker.isMarkedBad("v2"));
    VersionState saved = tracker.state(clock.instant());
    assertEquals(Set.of(), saved.markedBad());
    assertEquals(List.of("v2", "v1"), saved.knownGood());
    assertEquals(VersionStatus.KNOWN_GOOD, saved.status());
  }
}
