package io.infraveil.controlplane.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChangeCursorTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final Duration GRACE = Duration.ofSeconds(30);

  static Change change(long id) {
    return new Change(id, ChangeKind.DESIRED_STATE, "web-" + id, null, "a", T0);
  }

  static List<Long> ids(List<Change> changes) {
    return changes.stream().map(Change::id).toList();
  }

  @Test
  void deliversInOrderAndMovesTheFloor() {
    ChangeCursor cursor = new ChangeCursor(10, GRACE);
    assertEquals(List.of(11L, 12L), ids(cursor.accept(List.of(change(11), change(12)), T0)));
    assertEquals(12, cursor.floor());
    assertFalse(cursor.waitingForGap());
    assertEquals(List.of(), ids(cursor.accept(List.of(), T0)));
  }

  // Id 12 committed before 11: 12 goes out at once, 11 when it commits, each once.
  @Test
  void aLaterCommitBelowAVisibleIdIsDeliveredWhenItArrives() {
    ChangeCursor cursor = new ChangeCursor(10, GRACE);
    assertEquals(List.of(12L), ids(cursor.accept(List.of(change(12)), T0)));
    assertEquals(10, cursor.floor(), "11 is still awaited");
    assertTrue(cursor.waitingForGap());
    assertEquals(List.of(), ids(cursor.accept(List.of(change(12)), T0.plusSeconds(1))), "12 is not delivered twice");
    assertEquals(List.of(11L), ids(cursor.accept(List.of(change(11), change(12)), T0.plusSeconds(2))));
    assertEquals(12, cursor.floor());
    assertFalse(cursor.waitingForGap());
  }

  // A rolled-back transaction leaves an id that never comes: it is given up after the grace.
  @Test
  void aMissingIdIsGivenUpAfterTheGrace() {
    ChangeCursor cursor = new ChangeCursor(10, GRACE);
    cursor.accept(List.of(change(12), change(14)), T0);
    cursor.accept(List.of(change(12), change(14)), T0.plus(GRACE).minusMillis(1));
    assertEquals(10, cursor.floor());
    cursor.accept(List.of(change(12), change(14)), T0.plus(GRACE));
    assertEquals(14, cursor.floor(), "11 and 13 given up, 12 and 14 handled");
    assertFalse(cursor.waitingForGap());
  }

  @Test
  void rowsAtOrBelowTheFloorAreIgnored() {
    ChangeCursor cursor = new ChangeCursor(10, GRACE);
    assertEquals(List.of(), ids(cursor.accept(List.of(change(9), change(10)), T0)));
    assertEquals(10, cursor.floor());
  }
}
