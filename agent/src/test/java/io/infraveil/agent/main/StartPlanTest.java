package io.infraveil.agent.main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.payload.CacheResult;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StartPlanTest {

  private static final String DESIRED = "d".repeat(64);
  private static final String PREVIOUS = "p".repeat(64);
  private static final String GOOD1 = "1".repeat(64);
  private static final String GOOD2 = "2".repeat(64);

  private static StartPlan.Facts facts(boolean markedBad, boolean retry, boolean onDisk) {
    return new StartPlan.Facts(DESIRED, retry,
        markedBad ? Set.of(DESIRED, GOOD2) : Set.of(GOOD2), Optional.of(PREVIOUS),
        List.of(GOOD1, GOOD2, DESIRED), onDisk);
  }

  // One row per combination: what runs, why, and whether the fetch is retried.
  @ParameterizedTest(name = "{0} markedBad={1} retry={2} onDisk={3} -> {4}")
  @CsvSource({
      "CACHED,      false, false, false, DESIRED,                   desired,   false",
      "CACHED,      true,  true,  false, DESIRED,                   desired,   false",
      "REJECTED,    false, false, true,  PAYLOAD_REJECTED,          fallbacks, false",
      "UNAVAILABLE, false, false, true,  DESIRED_FROM_DISK,         desired,   false",
      "UNAVAILABLE, false, false, false, CONTROL_PLANE_UNAVAILABLE, fallbacks, true",
  })
  void afterFetch(CacheResult.Status fetched, boolean markedBad, boolean retry, boolean onDisk,
      StartPlan.Reason reason, String runs, boolean retryFetch) {
    StartPlan plan = StartPlan.afterFetch(facts(markedBad, retry, onDisk), fetched);
    assertEquals(reason, plan.reason());
    assertEquals(runs.equals("desired") ? List.of(DESIRED) : List.of(PREVIOUS, GOOD1),
        plan.candidates());
    assertEquals(retryFetch, plan.retryFetch());
  }

  // A desired version marked bad here is neither fetched nor run unless a retry was asked.
  @Test
  void markedBadDesiredIsSkippedBeforeFetch() {
    StartPlan plan = StartPlan.beforeFetch(facts(true, false, true)).orElseThrow();
    assertEquals(StartPlan.Reason.MARKED_BAD, plan.reason());
    assertEquals(List.of(PREVIOUS, GOOD1), plan.candidates());
    assertEquals(false, plan.retryFetch());
    assertTrue(StartPlan.beforeFetch(facts(true, true, true)).isEmpty());
    assertTrue(StartPlan.beforeFetch(facts(false, false, true)).isEmpty());
  }

  // With no previous version and no known good one, nothing runs (the agent stays up).
  @Test
  void nothingToFallBackTo() {
    StartPlan plan = StartPlan.afterFetch(new StartPlan.Facts(DESIRED, false, Set.of(),
        Optional.of(DESIRED), List.of(), false), CacheResult.Status.REJECTED);
    assertEquals(List.of(), plan.candidates());
  }
}
