package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `launcher` and `agent` hand every argument to the program's main, or say clearly it is absent. */
class DelegateCommandTest {

  static final List<String> received = new ArrayList<>();

  /** Stands in for a program's main class. */
  public static final class FakeMain {
    public static void main(String[] args) {
      received.addAll(List.of(args));
    }
  }

  @Test
  void passesArgumentsThroughUnchanged() throws Exception {
    received.clear();
    StringWriter err = new StringWriter();
    int code = DelegateCommand.run(FakeMain.class.getName(),
        new String[] {"--data-dir", "/tmp/x", "--name", "web-1", "--help"}, new PrintWriter(err));
    assertEquals(0, code, err.toString());
    assertEquals(List.of("--data-dir", "/tmp/x", "--name", "web-1", "--help"), received);
  }

  @Test
  void missingMainClassIsAClearError() throws Exception {
    StringWriter err = new StringWriter();
    int code = DelegateCommand.run("io.infraveil.launcher.NoSuchMain", new String[0], new PrintWriter(err));
    assertEquals(1, code);
    assertTrue(err.toString().contains("io.infraveil.launcher.NoSuchMain is not in this build"), err.toString());
  }

  @Test
  void helpListsEverySubcommand() {
    Cli.Result help = Cli.run("--help");
    assertEquals(0, help.code(), help::toString);
    for (String command : List.of("certs", "controlplane", "launcher", "agent", "ctl")) {
      assertTrue(help.out().contains("  " + command + " "), () -> command + "\n" + help);
    }
  }

  @Test
  void noCommandIsAUsageError() {
    Cli.Result result = Cli.run();
    assertEquals(2, result.code(), result::toString);
    assertTrue(result.err().contains("missing command"), result::toString);
  }
}
