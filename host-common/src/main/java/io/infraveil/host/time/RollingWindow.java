package io.infraveil.host.time;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;

/**
 * Counts events within a sliding time window; old events fall out, so a stable run earns the
 * budget back. Not thread-safe: it belongs to one owner.
 */
public final class RollingWindow {

  private final Duration window;
  private final Deque<Instant> events = new ArrayDeque<>();

  public RollingWindow(Duration window) {
    this.window = Objects.requireNonNull(window, "window");
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("window must be positive, got " + window);
    }
  }

  /** Restores a window from saved event times (for example after a restart). */
  public static RollingWindow of(Duration window, List<Instant> saved) {
    RollingWindow rolling = new RollingWindow(window);
    saved.stream().sorted().forEach(rolling.events::addLast);
    return rolling;
  }

  /** Records an event at {@code now} and returns how many events are in the window. */
  public int record(Instant now) {
    expire(now);
    events.addLast(now);
    return events.size();
  }

  /** Number of events within the window ending at {@code now}. */
  public int count(Instant now) {
    expire(now);
    return events.size();
  }

  /** Event times within the window, oldest first, for persistence. */
  public List<Instant> events(Instant now) {
    expire(now);
    return List.copyOf(events);
  }

  public void clear() {
    events.clear();
  }

  public Duration window() {
    return window;
  }

  private void expire(Instant now) {
    Instant horizon = now.minus(window);
    while (!events.isEmpty() && !events.peekFirst().isAfter(horizon)) {
      events.removeFirst();
    }
  }
}
