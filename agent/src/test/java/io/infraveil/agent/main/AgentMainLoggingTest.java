package io.infraveil.agent.main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.logging.LogFormat;
import io.infraveil.logging.Logging;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The agent's own log: file, format and flag. */
class AgentMainLoggingTest {

  @TempDir Path data;

  @AfterEach
  void backToConsole() {
    Logging.configure("test", Map.of(), LogFormat.LOGFMT, new Logging.Console(true));
  }

  /**
   * The agent's own log is DATA/agents/NAME/agent.log, in the common format with the
   * deployment on every line, whichever logging API the line came through.
   */
  @Test
  void ownLogGoesToAgentLogInTheCommonFormat() throws Exception {
    AgentMain main = new AgentMain();
    new CommandLine(main).parseArgs("--data-dir", data.toString(), "--deployment", "web");
    main.configureLogging();

    System.getLogger("io.infraveil.agent.Supervisor").log(System.Logger.Level.INFO,
        "ROLLED_BACK api DEPLOY_FAILURES_EXCEEDED: back to aaaa");

    List<String> lines = Files.readAllLines(data.resolve("agents/web/agent.log"));
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).matches("ts=\\S+ level=INFO program=agent deployment=web"
        + " logger=Supervisor msg=\"ROLLED_BACK api DEPLOY_FAILURES_EXCEEDED: back to aaaa\""),
        lines.get(0));
  }

  @Test
  void jsonByFlag() throws Exception {
    AgentMain main = new AgentMain();
    new CommandLine(main).parseArgs("--data-dir", data.toString(), "--deployment", "web",
        "--log-format", "json");
    main.configureLogging();

    org.slf4j.LoggerFactory.getLogger("io.infraveil.agent.main.Agent").warn("payload late");

    String line = Files.readString(data.resolve("agents/web/agent.log"));
    assertTrue(line.matches("\\{\"ts\":\"\\S+\",\"level\":\"WARN\",\"program\":\"agent\","
        + "\"deployment\":\"web\",\"logger\":\"Agent\",\"msg\":\"payload late\"}\n"), line);
  }
}
