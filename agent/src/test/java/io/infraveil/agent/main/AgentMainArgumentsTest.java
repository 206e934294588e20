package io.infraveil.agent.main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The agent's command line read in the launcher's form without picocli
 * ({@link AgentMain#launcherForm}) gives what picocli gives, for every option; anything else is
 * left to picocli.
 */
class AgentMainArgumentsTest {

  private static final List<String> HELP = List.of("--help", "--version");

  @Test
  void everyOptionReadsAsPicocliReadsIt() {
    List<String> args = new ArrayList<>(List.of("--data-dir", "/var/lib/infraveil",
        "--deployment=web"));
    for (OptionSpec option : new CommandLine(new AgentMain()).getCommandSpec().options()) {
      String name = option.longestName();
      if (HELP.contains(name) || args.contains(name) || name.equals("--deployment")) {
        continue;
      }
      if (option.arity().max() == 0) {
        args.add(name);
      } else {
        args.addAll(List.of(name, sample(option.type())));
      }
    }

    AgentMain quick = AgentMain.launcherForm(args.toArray(String[]::new)).orElseThrow(
        () -> new AssertionError("an option picocli knows is not read in the launcher's form: "
            + args));
    AgentMain picocli = new AgentMain();
    new CommandLine(picocli).parseArgs(args.toArray(String[]::new));

    assertEquals(picocli.dataDir, quick.dataDir);
    assertEquals(picocli.deployment, quick.deployment);
    assertEquals(picocli.stabilization, quick.stabilization);
    assertEquals(picocli.healingStablePeriod, quick.healingStablePeriod);
    assertEquals(picocli.heartbeatInterval, quick.heartbeatInterval);
    assertEquals(picocli.reconnectMax, quick.reconnectMax);
    assertEquals(picocli.logFormat, quick.logFormat);
    assertEquals(picocli.classArchiveTraining, quick.classArchiveTraining);
    assertTrue(quick.classArchiveTraining);
    assertEquals(picocli.settings(), quick.settings());
  }

  @Test
  void defaultsAreThoseOfPicocli() {
    String[] args = {"--data-dir", "/d", "--deployment", "web"};
    AgentMain quick = AgentMain.launcherForm(args).orElseThrow();
    AgentMain picocli = new AgentMain();
    new CommandLine(picocli).parseArgs(args);
    assertEquals(picocli.logFormat, quick.logFormat);
    assertEquals(picocli.settings(), quick.settings());
  }

  @Test
  void anythingElseIsLeftToPicocli() {
    for (String[] args : List.of(
        new String[] {"--help"},
        new String[] {"--data-dir", "/d"},
        new String[] {"--data-dir", "/d", "--deployment", "web", "--stabilisation", "1s"},
        new String[] {"--data-dir", "/d", "--deployment", "web", "--stabilization", "soon"},
        new String[] {"--data-dir", "/d", "--deployment", "web", "--log-format", "xml"},
        new String[] {"--data-dir", "/d", "--deployment", "web", "--deployment", "api"},
        new String[] {"--data-dir", "/d", "--deployment"})) {
      assertEquals(Optional.empty(), AgentMain.launcherForm(args), String.join(" ", args));
    }
  }

  private static String sample(Class<?> type) {
    if (type == Path.class) {
      return "/tmp/x";
    }
    if (type == Duration.class) {
      return "90s";
    }
    return "json";
  }
}
