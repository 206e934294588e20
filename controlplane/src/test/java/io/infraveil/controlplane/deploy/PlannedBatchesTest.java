package io.infraveil.controlplane.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Plan batches: canaries first as one batch, then max_parallel at a time, in the given order. */
class PlannedBatchesTest {

  // The expected batches are written as "*a|b,c": '|' between batches, '*' marks the canary batch.
  @ParameterizedTest(name = "{0} hosts, max_parallel {1}, canary {2} -> {3}")
  @CsvSource({
      "'a,b,c', 0, 0, 'a|b|c'",
      "'a,b,c', 1, 0, 'a|b|c'",
      "'a,b,c', 2, 0, 'a,b|c'",
      "'a,b,c', 5, 0, 'a,b,c'",
      "'a,b,c', 1, 1, '*a|b|c'",
      "'a,b,c', 2, 1, '*a|b,c'",
      "'a,b,c', 1, 2, '*a,b|c'",
      "'a,b', 1, 5, '*a,b'",
      "'', 1, 1, ''"})
  void batchesFollowCanaryThenMaxParallel(String hosts, int maxParallel, int canary, String expected) {
    List<String> changing = hosts.isEmpty() ? List.of() : Arrays.asList(hosts.split(","));
    String actual = PlannedBatches.of(changing, maxParallel, canary).stream()
        .map(b -> (b.canary() ? "*" : "") + String.join(",", b.hosts()))
        .collect(Collectors.joining("|"));
    assertEquals(expected, actual);
    var batches = PlannedBatches.of(changing, maxParallel, canary);
    for (int i = 0; i < batches.size(); i++) {
      assertEquals(i + 1, batches.get(i).number());
    }
  }

  @ParameterizedTest(name = "max_parallel {0}, canary {1} is refused")
  @CsvSource({"-1, 0", "0, -1"})
  void negativeSettingsAreRefused(int maxParallel, int canary) {
    var error = assertThrows(IllegalArgumentException.class, () -> PlannedBatches.of(List.of("a"), maxParallel, canary));
    assertEquals("max_parallel and canary must not be negative, got " + maxParallel + " and " + canary,
        error.getMessage());
  }
}
