package io.infraveil.launcher;

import java.io.PrintStream;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One line per action, {@code key=value} separated by spaces, values with spaces quoted:
 * {@code ts=2025-01-01T00:00:00Z action=spawn deployment=web pid=4242}. Never given tokens or
 * secrets.
 */
public final class LauncherLog {

  /** Hears every action as it is logged, as data (metrics count them). */
  @FunctionalInterface
  public interface ActionListener {
    void onAction(String action, Map<String, String> fields);
  }

  private final PrintStream out;
  private final Clock clock;
  private final ActionListener listener;

  public LauncherLog(PrintStream out, Clock clock) {
    this(out, clock, (action, fields) -> { });
  }

  public LauncherLog(PrintStream out, Clock clock, ActionListener listener) {
    this.out = Objects.requireNonNull(out, "out");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /** Logs {@code action} with alternating keys and values. */
  public void event(String action, Object... keyValues) {
    if (keyValues.length % 2 != 0) {
      throw new IllegalArgumentException("keys and values must come in pairs: " + keyValues.length);
    }
    StringBuilder line = new StringBuilder(96)
        .append("ts=").append(clock.instant()).append(" action=").append(action);
    Map<String, String> fields = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      String value = String.valueOf(keyValues[i + 1]);
      fields.put(String.valueOf(keyValues[i]), value);
      line.append(' ').append(keyValues[i]).append('=').append(quote(value));
    }
    synchronized (out) {
      out.println(line);
      out.flush();
    }
    listener.onAction(action, fields);
  }

  private static String quote(String value) {
    if (value.isEmpty() || value.chars().anyMatch(c -> c == ' ' || c == '"' || c == '=')) {
      return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
    return value;
  }
}
