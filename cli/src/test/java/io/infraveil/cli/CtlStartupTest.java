package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * What makes a short ctl command start quickly keeps it what it was: the command tree built for
 * a named command parses like the whole tree, and a ctl process prints its answer alone on
 * stdout (no library set-up writing there) with the startup trace, when asked, on stderr.
 */
class CtlStartupTest {

  @TempDir Path dir;

  @Test
  void aNamedCommandGetsItsBranchWithTheSameOptions() {
    CommandLine whole = CommandTree.whole(new Main(Map.of()));
    CommandLine pruned = CommandTree.build(new Main(Map.of()), new String[] {"ctl", "status"});
    assertEquals(List.of("ctl"), List.copyOf(pruned.getSubcommands().keySet()));
    CommandLine ctl = pruned.getSubcommands().get("ctl");
    assertEquals(List.of("status"), List.copyOf(ctl.getSubcommands().keySet()));
    assertEquals(optionNames(whole.getSubcommands().get("ctl").getSubcommands().get("status")),
        optionNames(ctl.getSubcommands().get("status")), "inherited --context and -o included");
    assertTrue(whole.getSubcommands().get("ctl").getSubcommands().size() > 10);
    CommandLine helpTree = CommandTree.build(new Main(Map.of()), new String[] {"help", "ctl"});
    assertTrue(helpTree.getSubcommands().size() > 5, "help sees every command");
    CommandLine typo = CommandTree.build(new Main(Map.of()), new String[] {"ctl", "statsu"});
    assertTrue(typo.getSubcommands().get("ctl").getSubcommands().size() > 10,
        "an unknown name gets the whole ctl branch, for picocli's suggestions");
  }

  @Test
  void usageErrorsAndHelpAreAsWithTheWholeTree() {
    Cli.Result typo = Cli.run(Map.of(), "ctl", "statsu");
    assertEquals(2, typo.code(), typo::toString);
    assertTrue(typo.err().contains("Did you mean") && typo.err().contains("ctl status"),
        typo::toString);
    Cli.Result unknownOption = Cli.run(Map.of(), "ctl", "status", "--bogus");
    assertEquals(2, unknownOption.code(), unknownOption::toString);
    assertTrue(unknownOption.err().contains("Unknown option: '--bogus'"), unknownOption::toString);
    Cli.Result help = Cli.run(Map.of(), "help", "ctl");
    assertEquals(0, help.code(), help::toString);
    assertTrue(help.out().contains("status") && help.out().contains("deploy"), help::toString);
    Cli.Result statusHelp = Cli.run(Map.of(), "ctl", "status", "--help");
    assertEquals(0, statusHelp.code(), statusHelp::toString);
    assertTrue(statusHelp.out().contains("--context=FILE"), statusHelp::toString);
  }

  @Test
  void ctlProcessPrintsItsAnswerOnStdoutAndTheTraceOnStderr() throws Exception {
    try (TestControlPlane server = new TestControlPlane(dir)) {
      Path out = dir.resolve("out.txt");
      Path err = dir.resolve("err.txt");
      List<String> command = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), Main.class.getName(), "ctl", "status"));
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectOutput(out.toFile()).redirectError(err.toFile());
      builder.environment().put("INFRAVEIL_CONTEXT", server.context.toString());
      builder.environment().put(StartupTrace.ENV, "1");
      Process process = builder.start();
      assertTrue(process.waitFor(120, TimeUnit.SECONDS), "ctl status finished");
      String stdout = Files.readString(out, StandardCharsets.UTF_8);
      String stderr = Files.readString(err, StandardCharsets.UTF_8);
      assertEquals(0, process.exitValue(), stdout + stderr);
      assertTrue(stdout.startsWith("HOSTS") || stdout.startsWith("CONTROL PLANE"), stdout);
      assertFalse(stdout.contains("level="), "no log line on stdout: " + stdout);
      String nanos = stderr.lines().filter(l -> l.startsWith(StartupTrace.NANOS_PREFIX))
          .findFirst().orElseThrow(() -> new AssertionError("no trace in " + stderr));
      List<String> steps = new ArrayList<>();
      long previous = Long.MIN_VALUE;
      for (String pair : nanos.substring(StartupTrace.NANOS_PREFIX.length()).trim().split(" ")) {
        String[] kv = pair.split("=");
        steps.add(kv[0]);
        long at = Long.parseLong(kv[1]);
        assertTrue(at >= previous, "steps in order: " + nanos);
        previous = at;
      }
      assertEquals(List.of("main", "parsed", "context", "tls", "channel", "connected", "answered",
          "printed"), steps);
      assertTrue(stderr.contains("ctl timing (ms since the process started): main "), stderr);
    }
  }

  private static List<String> optionNames(CommandLine line) {
    return line.getCommandSpec().options().stream().map(OptionSpec::longestName).sorted().toList();
  }
}
