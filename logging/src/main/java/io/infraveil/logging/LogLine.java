package io.infraveil.logging;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One log line in either format, always a single line (newlines in values are escaped). Fields
 * come in a fixed order: {@code ts}, {@code level}, the static fields (such as {@code program}
 * and {@code deployment}), {@code logger} and {@code msg} when present, the event's own
 * key-value pairs in the order given, then {@code error} and {@code stack} for a throwable.
 *
 * <p>logfmt: {@code ts=2025-01-01T00:00:00Z level=INFO program=launcher action=spawn
 * deployment=web pid=4242}; a value is quoted when it is empty or holds a space, a quote, an
 * equals sign or a control character. JSON: the same fields as one object, all values strings.
 */
public final class LogLine {

  private LogLine() {}

  /** Renders one line without its trailing newline. */
  public static String render(LogFormat format, Instant ts, String level,
      Map<String, String> staticFields, String logger, String message,
      List<Map.Entry<String, ?>> keyValues, String error, String stack) {
    Objects.requireNonNull(format, "format");
    Writer out = format == LogFormat.JSON ? new Json() : new Logfmt();
    out.field("ts", ts.toString());
    out.field("level", level);
    staticFields.forEach(out::field);
    if (logger != null && !logger.isEmpty()) {
      out.field("logger", logger);
    }
    if (message != null && !message.isEmpty()) {
      out.field("msg", message);
    }
    for (Map.Entry<String, ?> kv : keyValues) {
      out.field(kv.getKey(), String.valueOf(kv.getValue()));
    }
    if (error != null) {
      out.field("error", error);
    }
    if (stack != null) {
      out.field("stack", stack);
    }
    return out.finish();
  }

  private interface Writer {
    void field(String key, String value);

    String finish();
  }

  private static final class Logfmt implements Writer {
    private final StringBuilder line = new StringBuilder(128);

    @Override
    public void field(String key, String value) {
      if (line.length() > 0) {
        line.append(' ');
      }
      line.append(key).append('=');
      if (needsQuotes(value)) {
        line.append('"');
        escape(value, line);
        line.append('"');
      } else {
        line.append(value);
      }
    }

    @Override
    public String finish() {
      return line.toString();
    }

    private static boolean needsQuotes(String value) {
      return value.isEmpty() || value.chars().anyMatch(c -> c <= ' ' || c == '"' || c == '='
          || c == '\\' || c == 0x7f);
    }
  }

  private static final class Json implements Writer {
    private final StringBuilder line = new StringBuilder(160).append('{');

    @Override
    public void field(String key, String value) {
      if (line.length() > 1) {
        line.append(',');
      }
      line.append('"');
      escape(key, line);
      line.append("\":\"");
      escape(value, line);
      line.append('"');
    }

    @Override
    public String finish() {
      return line.append('}').toString();
    }
  }

  /** JSON string escaping, which is also what a quoted logfmt value needs. */
  private static void escape(String value, StringBuilder out) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
  }
}
