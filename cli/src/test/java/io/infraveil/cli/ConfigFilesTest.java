package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.options.CommandConfig;
import io.infraveil.host.options.ConfigFile;
import io.infraveil.launcher.LauncherMain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * controlplane.yaml and launcher.yaml as shipped and documented: every option of
 * {@code controlplane}, {@code launcher} and {@code launcher enroll} can be set from the file,
 * and every example of either file in the repository (files named so, and the
 * {@code # .../NAME.yaml} blocks of docs/configuration.md) is accepted as it stands.
 */
class ConfigFilesTest {

  private static final Pattern YAML_BLOCK =
      Pattern.compile("```yaml\\n# \\S*/(controlplane|launcher)\\.yaml\\n(.*?)```", Pattern.DOTALL);
  private static final Set<String> SKIPPED_DIRS =
      Set.of("target", ".git", "node_modules", ".tools", ".infraveil-dev");

  @TempDir Path dir;

  @Test
  void everyOptionAndPropertyOfTheProgramsWithConfigFilesHasASettableKey() {
    List<String> unsettable = new ArrayList<>();
    CommandLine launcher = LauncherMain.commandLine();
    for (CommandSpec spec : List.of(controlPlane().getCommandSpec(), launcher.getCommandSpec(),
        launcher.getSubcommands().get("enroll").getCommandSpec())) {
      for (OptionSpec option : CommandConfig.keyedOptions(spec).values()) {
        Class<?> type = option.isMultiValue() ? option.auxiliaryTypes()[0] : option.type();
        boolean settable = option.converters().length > 0
            || ConfigFile.SCALAR_TYPES.contains(type)
            || Map.class.isAssignableFrom(option.type());
        if (!settable) {
          unsettable.add(spec.qualifiedName() + " " + option.longestName() + " (" + type + ")");
        }
      }
    }
    ControlPlaneCommand.propertyKeys().forEach((key, type) -> {
      if (!ConfigFile.SCALAR_TYPES.contains(type)) {
        unsettable.add("controlplane.yaml " + key + " (" + type + ")");
      }
    });
    assertEquals(List.of(), unsettable, "teach ConfigFile.scalar these types");
  }

  @Test
  void everyExampleInTheRepositoryIsAccepted() throws IOException {
    Path root = ExternalProcess.repoRoot();
    List<String> checked = new ArrayList<>();
    Matcher blocks = YAML_BLOCK.matcher(Files.readString(root.resolve("docs/configuration.md")));
    int n = 0;
    while (blocks.find()) {
      Path example = Files.writeString(dir.resolve("example-" + n++ + "-" + blocks.group(1)
          + ".yaml"), blocks.group(2));
      check(blocks.group(1), example);
      checked.add("docs/configuration.md " + blocks.group(1) + ".yaml");
    }
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : files.filter(f -> Files.isRegularFile(f)
          && Stream.of(root.relativize(f).toString().split("/")).noneMatch(SKIPPED_DIRS::contains))
          .toList()) {
        String name = file.getFileName().toString();
        if (name.equals("controlplane.yaml") || name.equals("launcher.yaml")) {
          check(name.replace(".yaml", ""), file);
          checked.add(root.relativize(file).toString());
        }
      }
    }
    assertTrue(checked.size() >= 2, "the doc's two examples at least: " + checked);
  }

  private static void check(String program, Path file) {
    CommandSpec spec;
    Map<String, Class<?>> extra;
    if (program.equals("controlplane")) {
      CommandLine line = controlPlane();
      line.parseArgs();
      spec = line.getCommandSpec();
      extra = ControlPlaneCommand.propertyKeys();
    } else {
      CommandLine line = LauncherMain.commandLine();
      line.parseArgs();
      spec = line.getCommandSpec();
      extra = Map.of();
    }
    CommandConfig.apply(ConfigFile.read(file), spec, spec, extra);
  }

  private static CommandLine controlPlane() {
    return new CommandLine(new ControlPlaneCommand());
  }
}
