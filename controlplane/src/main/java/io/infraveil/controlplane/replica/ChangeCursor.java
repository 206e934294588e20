package io.infraveil.controlplane.replica;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Where a replica is in the change log. Ids come from the database in the order transactions
 * asked for them, not the order they commit: id 11 may be visible while 10 is still in an open
 * transaction. So the cursor keeps a floor (every id at or below it handled) and the ids above
 * it already delivered; a missing id is waited for up to {@code gapGrace} (its transaction may
 * still commit) and then given up (it rolled back). Pure: the caller reads rows and the clock.
 */
final class ChangeCursor {

  private final Duration gapGrace;
  private long floor;
  private final TreeSet<Long> deliveredAbove = new TreeSet<>();
  /** When ids above a missing one were first seen; null when nothing is missing. */
  private Instant gapSince;

  ChangeCursor(long start, Duration gapGrace) {
    this.floor = start;
    this.gapGrace = Objects.requireNonNull(gapGrace, "gapGrace");
  }

  /** Every id at or below this was delivered or given up. Read rows after it. */
  long floor() {
    return floor;
  }

  /** Ids above the floor still awaited: a read must go on past them. */
  boolean waitingForGap() {
    return gapSince != null;
  }

  /**
   * Takes rows read after {@link #floor()} (in id order) and returns those not delivered
   * before, moving the floor past every id that is now handled.
   */
  List<Change> accept(List<Change> rows, Instant now) {
    List<Change> fresh = new ArrayList<>();
    for (Change row : rows) {
      if (row.id() > floor && deliveredAbove.add(row.id())) {
        fresh.add(row);
      }
    }
    advance(now);
    return fresh;
  }

  private void advance(Instant now) {
    while (!deliveredAbove.isEmpty()) {
      if (deliveredAbove.first() == floor + 1) {
        deliveredAbove.pollFirst();
        floor++;
      } else if (gapSince == null) {
        gapSince = now; // floor + 1 is missing while a higher id is visible
        return;
      } else if (!now.isBefore(gapSince.plus(gapGrace))) {
        floor++; // given up: its transaction rolled back, or ran longer than the grace
      } else {
        return;
      }
    }
    gapSince = null;
  }
}
