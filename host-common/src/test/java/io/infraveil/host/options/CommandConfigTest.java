package io.infraveil.host.options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** A config file under a picocli command: keys are flags, flags win, mistakes name the line. */
class CommandConfigTest {

  @TempDir Path dir;

  @Command(name = "toy")
  static final class Toy {
    @Option(names = "--config") Path config;
    @Option(names = "--data-dir") Path dataDir;
    @Option(names = "--port", defaultValue = "7081") int port;
    @Option(names = "--window", defaultValue = "5m", converter = DurationConverter.class)
    Duration window;
    @Option(names = "--verbose") boolean verbose;
    @Option(names = "--key") List<Path> keys;
    @Option(names = "--labels", split = ",") Map<String, String> labels;
    @Option(names = "--name") String name;
  }

  private Toy parse(String... args) {
    Toy toy = new Toy();
    new CommandLine(toy).parseArgs(args);
    return toy;
  }

  private static CommandSpec spec(Toy toy) {
    return CommandSpec.forAnnotatedObject(toy);
  }

  private Path file(String yaml) throws Exception {
    return Files.writeString(dir.resolve("toy.yaml"), yaml);
  }

  // Every kind of option takes its value from the file when the command line leaves it out.
  @Test
  void fileSetsEveryOptionTheCommandLineLeftOut() throws Exception {
    Path file = file("""
        data-dir: data          # relative to the file
        port: 9000
        window: 1h30m
        verbose: true
        key: [a.pub, /etc/b.pub]
        labels: { zone: a, tier: web }
        name: 123
        """);
    Toy toy = new Toy();
    CommandLine line = new CommandLine(toy);
    line.parseArgs("--config", file.toString());
    CommandConfig.apply(ConfigFile.read(file), line.getCommandSpec(), line.getCommandSpec(), Map.of());

    assertEquals(dir.resolve("data"), toy.dataDir);
    assertEquals(9000, toy.port);
    assertEquals(Duration.ofMinutes(90), toy.window);
    assertTrue(toy.verbose);
    assertEquals(List.of(dir.resolve("a.pub"), Path.of("/etc/b.pub")), toy.keys);
    assertEquals(Map.of("zone", "a", "tier", "web"), toy.labels);
    assertEquals("123", toy.name);
  }

  // A list or map option given as one scalar is split as on the command line.
  @Test
  void scalarsOfSplittingOptionsSplitAsOnTheCommandLine() throws Exception {
    Path file = file("labels: zone=a,tier=web\n");
    Toy toy = new Toy();
    CommandLine line = new CommandLine(toy);
    line.parseArgs();
    CommandConfig.apply(ConfigFile.read(file), line.getCommandSpec(), line.getCommandSpec(), Map.of());
    assertEquals(Map.of("zone", "a", "tier", "web"), toy.labels);

    Path bad = file("labels: zone\n");
    ConfigFileException error = assertThrows(ConfigFileException.class, () -> CommandConfig.apply(
        ConfigFile.read(bad), line.getCommandSpec(), line.getCommandSpec(), Map.of()));
    assertEquals(bad + ":1: labels: must be name=value pairs or a mapping, got \"zone\"",
        error.getMessage());
  }

  // A flag on the command line wins over the file's key, whatever its kind.
  @Test
  void flagsWinOverTheFile() throws Exception {
    Path file = file("port: 9000\nwindow: 1h\nkey: a.pub\nname: from-file\n");
    Toy toy = new Toy();
    CommandLine line = new CommandLine(toy);
    line.parseArgs("--port", "9100", "--window", "PT30S", "--key", "/x.pub");
    CommandConfig.apply(ConfigFile.read(file), line.getCommandSpec(), line.getCommandSpec(), Map.of());

    assertEquals(9100, toy.port);
    assertEquals(Duration.ofSeconds(30), toy.window);
    assertEquals(List.of(Path.of("/x.pub")), toy.keys);
    assertEquals("from-file", toy.name);
  }

  // Unknown keys name file, line and key, and the nearest known key; every problem is listed.
  @Test
  void unknownKeysAndWrongTypesNameTheLine() throws Exception {
    Path file = file("""
        data_dir: /x
        port: seven
        window: 5 minutes
        verbose: 1
        infraveil:
          retention: 7d
        """);
    CommandLine line = new CommandLine(new Toy());
    line.parseArgs();
    ConfigFileException error = assertThrows(ConfigFileException.class, () -> CommandConfig.apply(
        ConfigFile.read(file), line.getCommandSpec(), line.getCommandSpec(),
        Map.of("retention", Duration.class)));

    List<String> problems = error.problems();
    assertEquals(5, problems.size(), error.getMessage());
    assertTrue(problems.get(0).startsWith(file + ":1: data_dir: unknown key; did you mean data-dir?"),
        problems.get(0));
    assertEquals(file + ":2: port: must be a whole number, got \"seven\"", problems.get(1));
    assertTrue(problems.get(2).startsWith(file + ":3: window: \"5 minutes\" is not a duration: use"
        + " 500ms, 30s, 5m, 1h"), problems.get(2));
    assertEquals(file + ":4: verbose: must be true or false, got \"1\"", problems.get(3));
    assertTrue(problems.get(4).startsWith(file + ":5: infraveil: unknown key; keys are flat"),
        problems.get(4));
  }

  // Extra keys (properties that are not flags) are type-checked and returned, not set.
  @Test
  void extraKeysAreCheckedAndReturned() throws Exception {
    Path file = file("retention: 1h30m\nhistory-batch-size: 500\n");
    CommandLine line = new CommandLine(new Toy());
    line.parseArgs();
    Map<String, Object> extras = CommandConfig.apply(ConfigFile.read(file), line.getCommandSpec(),
        line.getCommandSpec(), Map.of("retention", Duration.class, "history-batch-size", int.class));
    assertEquals(Map.of("retention", Duration.ofMinutes(90), "history-batch-size", 500), extras);

    Path bad = file("history-batch-size: 1.5\n");
    ConfigFileException error = assertThrows(ConfigFileException.class, () -> CommandConfig.apply(
        ConfigFile.read(bad), line.getCommandSpec(), line.getCommandSpec(),
        Map.of("history-batch-size", int.class)));
    assertEquals(bad + ":1: history-batch-size: must be a whole number, got \"1.5\"",
        error.getMessage());
  }

  @Test
  void fileShapeErrorsNameTheFile() throws Exception {
    assertEquals(dir.resolve("nope.yaml") + ": config file does not exist or is not a regular file",
        assertThrows(ConfigFileException.class, () -> ConfigFile.read(dir.resolve("nope.yaml")))
            .getMessage());
    Path list = file("- a\n- b\n");
    assertTrue(assertThrows(ConfigFileException.class, () -> ConfigFile.read(list)).getMessage()
        .startsWith(list + ":1: a config file is a mapping"));
    Path twice = file("port: 1\nname: x\nport: 2\n");
    assertEquals(twice + ":3: port: given twice (first on line 1)",
        assertThrows(ConfigFileException.class, () -> ConfigFile.read(twice)).getMessage());
    Path broken = file("port: [1\n");
    assertTrue(assertThrows(ConfigFileException.class, () -> ConfigFile.read(broken)).getMessage()
        .startsWith(broken + ":2: not valid YAML"));
    Path properties = Files.writeString(dir.resolve("old.properties"), "infraveil.retention=7d\n");
    assertEquals(properties + ": config files are YAML with flat keys (data-dir:"
        + " /var/lib/infraveil); .properties files are not read",
        assertThrows(ConfigFileException.class, () -> ConfigFile.read(properties)).getMessage());
    Path empty = file("port:\n");
    CommandLine line = new CommandLine(new Toy());
    line.parseArgs();
    assertEquals(empty + ":1: port: has no value; remove the line to use the default",
        assertThrows(ConfigFileException.class, () -> CommandConfig.apply(ConfigFile.read(empty),
            line.getCommandSpec(), line.getCommandSpec(), Map.of())).getMessage());
  }

  // An option that neither the command line nor the file gives is a usage error naming both.
  @Test
  void requireNamesTheFlagAndTheKey() {
    CommandLine line = new CommandLine(new Toy());
    line.parseArgs();
    CommandLine.ParameterException error = assertThrows(CommandLine.ParameterException.class,
        () -> CommandConfig.require(line.getCommandSpec(), "--data-dir", "--name"));
    assertEquals("Missing required options: '--data-dir' (or data-dir: in the --config file),"
        + " '--name' (or name: in the --config file)", error.getMessage());
    assertNull(((Toy) line.getCommand()).dataDir);
  }

  // The key of an option is its longest name; help, version and --config have none.
  @Test
  void keysAreLongOptionNames() {
    @Command(name = "k", mixinStandardHelpOptions = true)
    class K {
      @Option(names = "--config") Path config;
      @Option(names = {"-t", "--token", "--join-token"}) String token;
    }
    assertEquals(List.of("join-token"),
        List.copyOf(CommandConfig.keyedOptions(CommandSpec.forAnnotatedObject(new K())).keySet()));
  }

  @Test
  void durationConverterSaysTheAcceptedForms() {
    CommandLine.TypeConversionException error = assertThrows(
        CommandLine.TypeConversionException.class, () -> new DurationConverter().convert("soon"));
    assertTrue(error.getMessage().contains("\"soon\" is not a duration: use 500ms, 30s, 5m, 1h"),
        error.getMessage());
    assertEquals(Duration.ofMillis(500), new DurationConverter().convert("500ms"));
  }
}
