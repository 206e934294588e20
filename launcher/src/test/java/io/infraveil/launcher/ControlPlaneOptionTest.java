package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code --control-plane} of the launcher and of {@code launcher enroll}, and the
 * {@code control-plane} key of launcher.yaml: a bad list stops the program with exit 2 before
 * anything happens, naming the bad element.
 */
class ControlPlaneOptionTest {

  @TempDir Path dir;

  private record Run(int code, String err) {}

  private Run launcher(String... args) {
    StringWriter err = new StringWriter();
    CommandLine line = LauncherMain.commandLine();
    line.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of(args));
    return new Run(line.execute(all.toArray(String[]::new)), err.toString());
  }

  @Test
  void anEmptyElementOnTheCommandLineIsNamed() {
    Run run = launcher("--data-dir", dir.toString(), "--control-plane", "a:7443,,b:7443");

    assertEquals(2, run.code(), run.err());
    assertTrue(run.err().contains("control plane endpoint 2 of 3 in \"a:7443,,b:7443\" is empty"),
        run.err());
  }

  @Test
  void enrollRefusesADuplicateEndpoint() {
    Run run = launcher("enroll", "--data-dir", dir.toString(), "--token", "t", "--name", "web-1",
        "--ca", dir.resolve("ca.crt").toString(), "--control-plane", "cp-a:7443,CP-A:7443");

    assertEquals(2, run.code(), run.err());
    assertTrue(run.err().contains("control plane endpoint CP-A:7443 is given twice"), run.err());
  }

  @Test
  void aBadPortInTheConfigFileNamesFileLineAndKey() throws Exception {
    Path config = Files.writeString(dir.resolve("launcher.yaml"),
        "data-dir: " + dir + "\ncontrol-plane: cp-a:7443,cp-b:744x\n");

    Run run = launcher("--config", config.toString());

    assertEquals(2, run.code(), run.err());
    assertTrue(run.err().contains("launcher.yaml:2: control-plane: control plane endpoint"
        + " \"cp-b:744x\" has a port that is not a number"), run.err());
  }
}
