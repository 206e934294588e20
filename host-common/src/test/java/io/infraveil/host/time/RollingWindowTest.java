package io.infraveil.host.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RollingWindowTest {

  private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

  /** An event exactly one window old has left the window; one a millisecond younger has not. */
  @Test
  void eventAtExactWindowEdgeFallsOut() {
    RollingWindow window = new RollingWindow(Duration.ofSeconds(300));
    window.record(T0);
    assertEquals(1, window.count(T0.plusSeconds(300).minusMillis(1)));
    assertEquals(0, window.count(T0.plusSeconds(300)));
  }

  @Test
  void recordReturnsCountIncludingNewEvent() {
    RollingWindow window = new RollingWindow(Duration.ofSeconds(10));
    assertEquals(1, window.record(T0));
    assertEquals(2, window.record(T0.plusSeconds(5)));
    assertEquals(2, window.record(T0.plusSeconds(12))); // T0 expired, T0+5 and T0+12 remain
    assertEquals(List.of(T0.plusSeconds(5), T0.plusSeconds(12)), window.events(T0.plusSeconds(12)));
  }

  @Test
  void restoredWindowSortsAndExpiresSavedEvents() {
    RollingWindow window = RollingWindow.of(Duration.ofSeconds(10),
        List.of(T0.plusSeconds(8), T0, T0.plusSeconds(3)));
    assertEquals(List.of(T0.plusSeconds(3), T0.plusSeconds(8)), window.events(T0.plusSeconds(10)));
  }

  @Test
  void clearEmptiesWindow() {
    RollingWindow window = new RollingWindow(Duration.ofSeconds(10));
    window.record(T0);
    window.clear();
    assertEquals(0, window.count(T0));
  }

  @Test
  void refusesNonPositiveWindow() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new RollingWindow(Duration.ZERO));
    assertEquals("window must be positive, got PT0S", e.getMessage());
  }
}
