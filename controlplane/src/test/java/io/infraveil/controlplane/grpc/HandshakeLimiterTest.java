package io.infraveil.controlplane.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Turns up to the limit at once, the rest first come first served; nobody is refused. */
class HandshakeLimiterTest {

  private final List<String> turns = new ArrayList<>();

  private Runnable turn(String name) {
    return () -> turns.add(name);
  }

  @Test
  void turnsBeyondTheLimitWaitInArrivalOrder() {
    HandshakeLimiter limiter = new HandshakeLimiter(2);
    limiter.acquire(turn("a"));
    limiter.acquire(turn("b"));
    limiter.acquire(turn("c"));
    limiter.acquire(turn("d"));
    assertEquals(List.of("a", "b"), turns);
    assertEquals(new HandshakeLimiter.Stats(2, 2, 2, 2, 2, 2), limiter.stats());

    limiter.release();
    assertEquals(List.of("a", "b", "c"), turns, "a freed place goes to the first waiting");
    limiter.release();
    limiter.release();
    limiter.release();
    assertEquals(List.of("a", "b", "c", "d"), turns);
    assertEquals(new HandshakeLimiter.Stats(2, 0, 0, 4, 2, 2), limiter.stats());
    assertThrows(IllegalStateException.class, limiter::release, "one release per turn");
  }

  @Test
  void aConnectionClosedWhileWaitingLeavesTheQueue() {
    HandshakeLimiter limiter = new HandshakeLimiter(1);
    limiter.acquire(turn("a"));
    Runnable gone = turn("gone");
    limiter.acquire(gone);
    limiter.acquire(turn("c"));

    assertTrue(limiter.cancel(gone));
    limiter.release();
    assertEquals(List.of("a", "c"), turns);
    assertFalse(limiter.cancel(turn("c")), "a turn that came cannot be cancelled");
    assertThrows(IllegalArgumentException.class, () -> new HandshakeLimiter(0));
  }
}
