package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `infraveil completion bash|zsh` prints scripts that parse, and the bash one completes real
 * subcommands and option values when bash runs its completion function.
 */
class CompletionCommandTest {

  @TempDir Path dir;

  @Test
  void bashScriptParsesAndCompletesSubcommandsAndOutputFormats() throws Exception {
    Cli.Result result = Cli.run("completion", "bash");
    assertEquals(0, result.code(), result::toString);
    Path script = dir.resolve("infraveil.bash");
    Files.writeString(script, result.out());
    assertEquals("", shell(List.of("bash", "-n", script.toString())), "bash -n finds no syntax error");

    String subcommands = complete(script, "infraveil ctl dep", "dep");
    assertEquals(List.of("deploy", "deployments"), subcommands.lines().sorted().toList());
    String formats = complete(script, "infraveil ctl hosts -o ", "");
    assertEquals(List.of("json", "table", "wide", "yaml"), formats.lines().sorted().toList());
    assertTrue(complete(script, "infraveil comp", "comp").lines().toList().contains("completion"));
  }

  @Test
  void zshScriptLoadsBashcompinitThenTheSameFunctions() throws Exception {
    Cli.Result result = Cli.run("completion", "zsh");
    assertEquals(0, result.code(), result::toString);
    assertTrue(result.out().startsWith("#compdef infraveil\n"), result.out());
    assertTrue(result.out().contains("autoload -U +X bashcompinit && bashcompinit"), result.out());
    assertTrue(result.out().contains("complete -F _complete_infraveil"), "registers the completion function");
    Path script = dir.resolve("infraveil.zsh");
    Files.writeString(script, result.out());
    Path zsh = Path.of("/usr/bin/zsh");
    List<String> check = Files.isExecutable(zsh) ? List.of(zsh.toString(), "-n", script.toString())
        : List.of("bash", "-n", script.toString()); // without zsh: the script is the bash one behind two autoloads
    assertEquals("", shell(check));
  }

  @Test
  void unknownShellIsAUsageError() {
    Cli.Result result = Cli.run("completion", "fish");
    assertEquals(2, result.code(), result::toString);
    assertTrue(result.err().contains("bash, zsh"), result::toString);
  }

  /** Runs the script's completion function as bash would on TAB after {@code line}. */
  private String complete(Path script, String line, String current) throws Exception {
    String words = line.endsWith(" ") ? line + "''" : line;
    String program = "source '" + script + "' 2>/dev/null; COMP_WORDS=(" + words + "); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ));"
        + " COMP_LINE='" + line + "'; COMP_POINT=${#COMP_LINE}; _complete_infraveil infraveil '" + current + "' x"
        + " 2>/dev/null; printf '%s\\n' \"${COMPREPLY[@]}\"";
    return shell(List.of("bash", "-c", program));
  }

  private static String shell(List<String> command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "shell did not finish");
    assertEquals(0, process.exitValue(), out);
    return out;
  }
}
