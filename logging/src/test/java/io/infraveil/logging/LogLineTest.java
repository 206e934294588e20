package io.infraveil.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogLineTest {

  private static final Instant TS = Instant.parse("2025-01-01T00:00:00Z");
  private static final Map<String, String> PROGRAM = Map.of("program", "launcher");

  /** An action line: the fields in the order given, nothing quoted that needs no quotes. */
  @Test
  void logfmtActionLineKeepsFieldOrder() {
    String line = LogLine.render(LogFormat.LOGFMT, TS, "INFO", PROGRAM, null, null,
        List.of(Map.entry("action", "spawn"), Map.entry("deployment", "web"),
            Map.entry("pid", 4242)), null, null);
    assertEquals("ts=2025-01-01T00:00:00Z level=INFO program=launcher action=spawn"
        + " deployment=web pid=4242", line);
  }

  /** Spaces, quotes, equals signs, backslashes and newlines are quoted and escaped: one line. */
  @Test
  void logfmtQuotesAndEscapesValues() {
    String line = LogLine.render(LogFormat.LOGFMT, TS, "WARN", Map.of(), "Supervisor",
        "a \"b\"=c\\d\nsecond line", List.of(Map.entry("empty", "")), null, null);
    assertEquals("ts=2025-01-01T00:00:00Z level=WARN logger=Supervisor"
        + " msg=\"a \\\"b\\\"=c\\\\d\\nsecond line\" empty=\"\"", line);
  }

  @Test
  void jsonHasTheSameFieldsAsStrings() {
    String line = LogLine.render(LogFormat.JSON, TS, "ERROR", PROGRAM, "Agent", "cannot \"x\"",
        List.of(Map.entry("pid", 7)), "java.io.IOException: gone", "trace\n\tat x\u0001");
    assertEquals("{\"ts\":\"2025-01-01T00:00:00Z\",\"level\":\"ERROR\",\"program\":\"launcher\","
        + "\"logger\":\"Agent\",\"msg\":\"cannot \\\"x\\\"\",\"pid\":\"7\","
        + "\"error\":\"java.io.IOException: gone\",\"stack\":\"trace\\n\\tat x\\u0001\"}", line);
  }

  @Test
  void formatsByName() {
    assertEquals(LogFormat.JSON, LogFormat.named("json"));
    assertEquals(LogFormat.LOGFMT, LogFormat.named(" LOGFMT "));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LogFormat.named("xml"));
    assertEquals("unknown log format 'xml': use one of [logfmt, json]", e.getMessage());
  }
}
