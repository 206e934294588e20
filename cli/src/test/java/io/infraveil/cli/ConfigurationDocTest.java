package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.agent.main.AgentMain;
import io.infraveil.controlplane.ControlPlaneProperties;
import io.infraveil.launcher.LauncherMain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * docs/configuration.md cannot drift from the programs: every option of every command (walked
 * from the picocli specs, the launcher's and the agent's included) is named in that command's
 * section, every flag the doc's tables name exists, and the controlplane.yaml key table lists
 * exactly the {@code infraveil.*} properties the control plane reads, with their defaults.
 *
 * <p>Sections are {@code ## `COMMAND`} headings; ctl's subcommands are the rows of the ctl
 * table whose first cell starts with {@code `SUBCOMMAND}.
 */
class ConfigurationDocTest {

  private static final Pattern FLAG = Pattern.compile("(?<![\\w=-])(--?[a-zA-Z][a-zA-Z0-9-]*)");
  private static final Pattern HEADING = Pattern.compile("^#{2,3} `([a-z][a-z -]*)`");
  private static final Pattern KEY_ROW = Pattern.compile("^\\| `([a-z][a-z0-9.-]*)` \\|([^|]*)\\|");

  private final Map<String, String> sections = sections(read());

  @Test
  void everyOptionIsDocumentedInItsCommandsSection() {
    List<String> missing = new ArrayList<>();
    commands().forEach((path, spec) -> {
      String text = textFor(path);
      if (text == null) {
        if (!own(spec).isEmpty()) {
          missing.add(path + ": no section (## `" + path + "`, or a row of the ctl table)");
        }
        return;
      }
      Set<String> named = flags(text);
      for (OptionSpec option : own(spec)) {
        if (List.of(option.names()).stream().noneMatch(named::contains)) {
          missing.add(path + ": " + option.longestName());
        }
      }
    });
    assertEquals(List.of(), missing, "document these options in docs/configuration.md");
  }

  @Test
  void everyFlagTheDocNamesExists() {
    // Each table row belongs to the most specific command whose text holds it (a ctl row to
    // its subcommand, not to ctl).
    Map<String, CommandSpec> commands = commands();
    Map<String, String> owner = new LinkedHashMap<>();
    commands.keySet().forEach(path -> {
      String text = textFor(path);
      if (text != null) {
        text.lines().filter(l -> l.startsWith("|")).forEach(line -> owner.merge(line, path,
            (a, b) -> a.length() >= b.length() ? a : b));
      }
    });
    List<String> unknown = new ArrayList<>();
    owner.forEach((line, path) -> {
      Set<String> names = new TreeSet<>();
      commands.get(path).options().forEach(option -> names.addAll(List.of(option.names())));
      for (String flag : flags(line)) {
        if (flag.startsWith("--") && !names.contains(flag)) {
          unknown.add(path + ": " + flag + " in \"" + line.strip() + "\"");
        }
      }
    });
    assertEquals(List.of(), unknown, "docs/configuration.md names options that do not exist");
  }

  @Test
  void controlPlaneKeyTableListsEveryPropertyWithItsDefault() {
    Map<String, String> rows = new LinkedHashMap<>();
    for (String line : sections.get("controlplane").lines().toList()) {
      Matcher row = KEY_ROW.matcher(line);
      if (row.find()) {
        rows.put(row.group(1), row.group(2));
      }
    }
    Map<String, Class<?>> keys = ControlPlaneCommand.propertyKeys();
    assertEquals(new TreeSet<>(keys.keySet()), new TreeSet<>(rows.keySet()),
        "the controlplane.yaml key table in docs/configuration.md");
    for (ControlPlaneProperties.Property property : ControlPlaneProperties.all()) {
      String key = property.name().substring("infraveil.".length());
      if (rows.containsKey(key) && !property.defaultValue().isEmpty()) {
        assertTrue(rows.get(key).contains("`" + property.defaultValue() + "`"),
            key + ": the doc's default should be `" + property.defaultValue() + "`, row: "
                + rows.get(key));
      }
    }
  }

  /** Every command by its path ("certs init", "launcher enroll", "ctl tokens create"). */
  static Map<String, CommandSpec> commands() {
    CommandLine main = CommandTree.whole(new Main(Map.of()));
    Map<String, CommandSpec> out = new LinkedHashMap<>();
    walk("", main, out);
    out.keySet().removeIf(path -> path.equals("launcher") || path.equals("agent")
        || path.equals("help"));
    walk("", LauncherMain.commandLine(), out);
    walk("", new CommandLine(new AgentMain()), out);
    return out;
  }

  private static void walk(String prefix, CommandLine line, Map<String, CommandSpec> out) {
    String path = (prefix + " " + line.getCommandName()).strip();
    if (!path.equals("infraveil")) {
      out.put(path, line.getCommandSpec());
    }
    String next = path.equals("infraveil") ? "" : path;
    line.getSubcommands().values().forEach(sub -> walk(next, sub, out));
  }

  /** The options a command declares itself: no help, version or inherited ones. */
  private static List<OptionSpec> own(CommandSpec spec) {
    return spec.options().stream()
        .filter(o -> !o.usageHelp() && !o.versionHelp() && !o.inherited() && !o.hidden())
        .toList();
  }

  /** A command's section, or for ctl's subcommands their row(s) in the ctl table. */
  private String textFor(String path) {
    if (sections.containsKey(path)) {
      return sections.get(path);
    }
    if (path.startsWith("ctl ") && sections.containsKey("ctl")) {
      String sub = path.substring("ctl ".length());
      StringBuilder rows = new StringBuilder();
      for (String line : sections.get("ctl").lines().toList()) {
        if (line.startsWith("| `" + sub + " ") || line.startsWith("| `" + sub + "`")) {
          rows.append(line).append('\n');
        }
      }
      return rows.isEmpty() ? null : rows.toString();
    }
    return null;
  }

  private static Set<String> flags(String text) {
    Set<String> out = new TreeSet<>();
    Matcher matcher = FLAG.matcher(text);
    while (matcher.find()) {
      out.add(matcher.group(1));
    }
    return out;
  }

  private static Map<String, String> sections(String doc) {
    Map<String, String> out = new LinkedHashMap<>();
    String current = null;
    StringBuilder text = new StringBuilder();
    for (String line : doc.lines().toList()) {
      if (line.startsWith("## ") || line.startsWith("### ")) {
        if (current != null) {
          out.put(current, text.toString());
        }
        Matcher heading = HEADING.matcher(line);
        current = heading.find() ? heading.group(1).strip() : null;
        text.setLength(0);
      } else if (current != null) {
        text.append(line).append('\n');
      }
    }
    if (current != null) {
      out.put(current, text.toString());
    }
    return out;
  }

  private static String read() {
    try {
      return Files.readString(ExternalProcess.repoRoot().resolve("docs/configuration.md"));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
