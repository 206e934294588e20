package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.infraveil.logging.LogFormat;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class LauncherLogTest {

  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC);

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final List<String> heard = new ArrayList<>();

  private LauncherLog log(LogFormat format) {
    return new LauncherLog(new PrintStream(out, true, StandardCharsets.UTF_8), CLOCK,
        (action, fields) -> heard.add(action + " " + fields), format);
  }

  /** The action line keeps "action=X key=value ..." in order, after the common fields. */
  @Test
  void logfmtLineHasTheCommonFieldsThenTheAction() {
    log(LogFormat.LOGFMT).event("spawn", "deployment", "web", "pid", 4242, "why", "new version");
    assertEquals("ts=2025-01-01T00:00:00Z level=INFO program=launcher action=spawn deployment=web"
        + " pid=4242 why=\"new version\"\n", out.toString(StandardCharsets.UTF_8));
    assertEquals(List.of("spawn {deployment=web, pid=4242, why=new version}"), heard);
  }

  @Test
  void jsonLineHasTheSameFields() {
    log(LogFormat.JSON).event("adopt", "deployment", "web", "pid", 7);
    assertEquals("{\"ts\":\"2025-01-01T00:00:00Z\",\"level\":\"INFO\",\"program\":\"launcher\","
        + "\"action\":\"adopt\",\"deployment\":\"web\",\"pid\":\"7\"}\n",
        out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void refusesUnpairedFields() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> log(LogFormat.LOGFMT).event("spawn", "deployment"));
    assertEquals("keys and values must come in pairs: 1", e.getMessage());
    assertEquals("", out.toString(StandardCharsets.UTF_8));
  }

  /** --log-format json reaches the agents the launcher starts; logfmt adds nothing. */
  @Test
  void logFormatIsPassedToAgents() {
    LauncherMain json = new LauncherMain();
    new CommandLine(json).parseArgs("--data-dir", "/d", "--control-plane", "h:1", "--ca", "c",
        "--agent-command", "agent", "--log-format", "json");
    assertEquals(List.of("agent", "--log-format=json"), json.agentCommand());
    LauncherMain plain = new LauncherMain();
    new CommandLine(plain).parseArgs("--data-dir", "/d", "--control-plane", "h:1", "--ca", "c",
        "--agent-command", "agent");
    assertEquals(List.of("agent"), plain.agentCommand());
  }
}
