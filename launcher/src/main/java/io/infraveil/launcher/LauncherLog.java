package io.infraveil.launcher;

import io.infraveil.logging.LogFormat;
import io.infraveil.logging.LogLine;
import java.io.PrintStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One line per action in the format every Infraveil program writes ({@link LogLine}, logfmt by
 * default, JSON with {@code --log-format json}):
 * {@code ts=2025-01-01T00:00:00Z level=INFO program=launcher action=spawn deployment=web
 * pid=4242}. The action and its fields come in the order given, so {@code action=X key=value}
 * can be searched for as it stands. Never given tokens or secrets.
 */
public final class LauncherLog {

  /** Hears every action as it is logged, as data (metrics count them). */
  @FunctionalInterface
  public interface ActionListener {
    void onAction(String action, Map<String, String> fields);
  }

  private static final Map<String, String> PROGRAM = Map.of("program", "launcher");

  private final PrintStream out;
  private final Clock clock;
  private final ActionListener listener;
  private final LogFormat format;

  public LauncherLog(PrintStream out, Clock clock) {
    this(out, clock, (action, fields) -> { });
  }

  public LauncherLog(PrintStream out, Clock clock, ActionListener listener) {
    this(out, clock, listener, LogFormat.LOGFMT);
  }

  public LauncherLog(PrintStream out, Clock clock, ActionListener listener, LogFormat format) {
    this.out = Objects.requireNonNull(out, "out");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.format = Objects.requireNonNull(format, "format");
  }

  /** Logs {@code action} with alternating keys and values. */
  public void event(String action, Object... keyValues) {
    if (keyValues.length % 2 != 0) {
      throw new IllegalArgumentException("keys and values must come in pairs: " + keyValues.length);
    }
    Map<String, String> fields = new LinkedHashMap<>();
    List<Map.Entry<String, ?>> pairs = new ArrayList<>(keyValues.length / 2 + 1);
    pairs.add(Map.entry("action", action));
    for (int i = 0; i < keyValues.length; i += 2) {
      String value = String.valueOf(keyValues[i + 1]);
      fields.put(String.valueOf(keyValues[i]), value);
      pairs.add(Map.entry(String.valueOf(keyValues[i]), value));
    }
    String line = LogLine.render(format, clock.instant(), "INFO", PROGRAM, null, null, pairs,
        null, null);
    synchronized (out) {
      out.println(line);
      out.flush();
    }
    listener.onAction(action, fields);
  }
}
