package io.infraveil.controlplane.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The change-log rows of a fan-out name every host once, with its revision, within the column's size. */
class DesiredStateChangesTest {

  // 10,000 hosts fit in a few hundred rows, none longer than the detail column, and reading
  // the rows back gives every host with the revision it was stored under, in order.
  @Test
  void tenThousandHostsFitInFewRowsAndReadBackExactly() {
    Map<String, Long> revisions = new LinkedHashMap<>();
    for (int i = 0; i < 10_000; i++) {
      revisions.put(String.format("host-%05d", i), 1_000_000_000L + i);
    }
    List<ChangeLog.Entry> rows = DesiredStateChanges.encode(revisions);

    assertTrue(rows.size() < 200, rows.size() + " rows");
    Map<String, Long> back = new LinkedHashMap<>();
    long id = 1;
    for (ChangeLog.Entry row : rows) {
      assertTrue(row.detail().length() <= DesiredStateChanges.MAX_DETAIL, row.detail().length() + " characters");
      Map<String, Long> named = DesiredStateChanges.decode(change(id++, row));
      assertEquals(row.subject(), named.size() + " hosts");
      back.putAll(named);
    }
    assertEquals(List.copyOf(revisions.entrySet()), List.copyOf(back.entrySet()));
  }

  // A host name of the longest kind still gets a row of its own.
  @Test
  void longHostNamesAreNeverCutAcrossRows() {
    Map<String, Long> revisions = new LinkedHashMap<>();
    for (int i = 0; i < 100; i++) {
      revisions.put("h".repeat(60) + String.format("%03d", i), (long) i);
    }
    Map<String, Long> back = new LinkedHashMap<>();
    for (ChangeLog.Entry row : DesiredStateChanges.encode(revisions)) {
      back.putAll(DesiredStateChanges.decode(change(1, row)));
    }
    assertEquals(revisions, back);
  }

  @Test
  void aRowThatNamesNoRevisionIsRefusedNamingTheItem() {
    var thrown = assertThrows(IllegalArgumentException.class, () -> DesiredStateChanges.decode(
        new Change(9, ChangeKind.DESIRED_STATES, "1 hosts", "web-1", "a", Instant.EPOCH)));
    assertTrue(thrown.getMessage().contains("\"web-1\""), thrown.getMessage());
  }

  private static Change change(long id, ChangeLog.Entry row) {
    return new Change(id, ChangeKind.DESIRED_STATES, row.subject(), row.detail(), "a", Instant.EPOCH);
  }
}
