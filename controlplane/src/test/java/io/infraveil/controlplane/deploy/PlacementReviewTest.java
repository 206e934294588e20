package io.infraveil.controlplane.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.HostStore.HostRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The placement review as a pure function of targets, instances and the fleet. */
class PlacementReviewTest {

  static HostRecord host(String name, Map<String, String> labels, boolean revoked) {
    return new HostRecord(name, "spiffe://t/host/" + name, labels, new byte[0], Instant.EPOCH,
        revoked ? Instant.EPOCH : null, 0, 0);
  }

  static final List<HostRecord> FLEET = List.of(
      host("c", Map.of("zone", "a"), false),
      host("a", Map.of("zone", "a"), false),
      host("b", Map.of("zone", "b"), false),
      host("gone", Map.of("zone", "z"), true));

  @Test
  void namedHostsArePlacedInNameOrderWhenAllAreEnrolled() {
    var outcome = PlacementReview.review("web", List.of("c", "a"), Map.of(), 1, FLEET);
    assertFalse(outcome.refused());
    assertEquals(List.of("a", "c"), outcome.placed());
    assertEquals(List.of(), outcome.warnings());
  }

  @Test
  void unknownAndRevokedHostsAreRefusedTogetherNamingTheEnrolledOnes() {
    var outcome = PlacementReview.review("web", List.of("a", "nosuch", "gone"), Map.of(), 1, FLEET);
    assertEquals(PlacementReview.Refusal.NOTHING_THERE, outcome.refusal());
    assertTrue(outcome.message().contains("gone is revoked, nosuch is not enrolled; enrolled hosts: a, b, c"),
        outcome.message());
    assertEquals(List.of(), outcome.placed());
  }

  @Test
  void revokedHostsAreNotValuesOfferedForLabels() {
    var outcome = PlacementReview.review("web", List.of(), Map.of("zone", "z"), 1, FLEET);
    assertEquals(PlacementReview.Refusal.NOTHING_THERE, outcome.refusal());
    assertTrue(outcome.message().endsWith("values of zone on hosts: a, b"), outcome.message());
  }

  @ParameterizedTest(name = "{0}={1} is malformed")
  @CsvSource({"zone, 'a,zone=b'", "zone, 'a=b'"})
  void aValueHoldingASecondSelectorIsInvalid(String key, String value) {
    var outcome = PlacementReview.review("web", List.of(), Map.of(key, value), 1, FLEET);
    assertEquals(PlacementReview.Refusal.INVALID_TARGET, outcome.refusal());
    assertTrue(outcome.message().contains("values of zone on hosts: a, b"), outcome.message());
  }

  // instances: hosts wanted, the same for names and labels; never a cap; fewer is a warning.
  @ParameterizedTest(name = "instances={0}: placed {1}, warned={2}")
  @CsvSource({"1, 'a,c', false", "2, 'a,c', false", "3, 'a,c', true", "0, 'a,c', false"})
  void instancesWarnsWhenShortAndNeverCaps(int instances, String placed, boolean warned) {
    var byLabels = PlacementReview.review("web", List.of(), Map.of("zone", "a"), instances, FLEET);
    var byNames = PlacementReview.review("web", List.of("a", "c"), Map.of(), instances, FLEET);
    for (var outcome : List.of(byLabels, byNames)) {
      assertNull(outcome.refusal());
      assertEquals(List.of(placed.split(",")), outcome.placed());
      assertEquals(warned ? 1 : 0, outcome.warnings().size(), outcome.warnings().toString());
    }
    if (warned) {
      assertTrue(byLabels.warnings().get(0).contains("asks for 3 instances (hosts) but is placed on 2: a, c"));
      assertTrue(byNames.warnings().get(0).contains("asks for 3 instances (hosts) but is placed on 2: a, c"));
    }
  }
}
