package io.infraveil.logging;

import java.util.Arrays;
import java.util.Locale;

/** How a log line is written: logfmt ({@code key=value} pairs, the default) or one JSON object. */
public enum LogFormat {
  LOGFMT, JSON;

  /** The format named on a command line ({@code --log-format logfmt|json}). */
  public static LogFormat named(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown log format '" + name + "': use one of "
          + Arrays.toString(values()).toLowerCase(Locale.ROOT), e);
    }
  }
}
