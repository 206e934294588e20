package io.infraveil.host.options;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Puts a {@link ConfigFile} under a picocli command: every option has a key (its longest name
 * without the dashes), the file gives the options the command line did not, so flags win.
 * Call {@link #apply} first thing in {@code call()}, then {@link #require} the options that
 * must come from one or the other.
 */
public final class CommandConfig {

  /** The option that names the file; it has no key of its own. */
  public static final String CONFIG_OPTION = "--config";

  private CommandConfig() {}

  /** The file key of an option: {@code --data-dir} → {@code data-dir}. */
  public static String key(OptionSpec option) {
    return option.longestName().replaceFirst("^-+", "");
  }

  /** The options of a command that a config file may set, by key, in declaration order. */
  public static Map<String, OptionSpec> keyedOptions(CommandSpec spec) {
    Map<String, OptionSpec> keyed = new LinkedHashMap<>();
    for (OptionSpec option : spec.options()) {
      if (option.usageHelp() || option.versionHelp()
          || List.of(option.names()).contains(CONFIG_OPTION)) {
        continue;
      }
      keyed.put(key(option), option);
    }
    return keyed;
  }

  /**
   * Checks every key of {@code file} against the options of {@code schema} and the
   * {@code extraKeys} (with their value types), converting each value, and reports every
   * problem at once. Then sets each option of {@code target} (whose keys are looked up by all
   * its names) that was not given on {@code target}'s command line. {@code target} may be
   * {@code schema} itself, or a subcommand that reads the same file.
   *
   * @return the converted values of the extra keys present in the file
   * @throws ConfigFileException listing every unknown key and every bad value with its line
   */
  public static Map<String, Object> apply(ConfigFile file, CommandSpec schema, CommandSpec target,
      Map<String, Class<?>> extraKeys) {
    Objects.requireNonNull(file, "file");
    Map<String, OptionSpec> options = keyedOptions(schema);
    TreeSet<String> known = new TreeSet<>(options.keySet());
    known.addAll(extraKeys.keySet());
    List<String> problems = new ArrayList<>();
    Map<String, Object> values = new LinkedHashMap<>();
    for (ConfigFile.Entry entry : file.entries().values()) {
      OptionSpec option = options.get(entry.key());
      try {
        if (option != null) {
          values.put(entry.key(), optionValue(file, entry, option));
        } else if (extraKeys.containsKey(entry.key())) {
          values.put(entry.key(),
              file.value(entry, extraKeys.get(entry.key()), String.class, null, null));
        } else {
          problems.add(file.unknown(entry, known));
        }
      } catch (ConfigFile.Problem e) {
        problems.add(file.problem(entry, e.getMessage()));
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigFileException(problems);
    }
    CommandLine.ParseResult parsed = target.commandLine() == null ? null
        : target.commandLine().getParseResult();
    for (OptionSpec option : target.options()) {
      if (parsed != null && parsed.hasMatchedOption(option)) {
        continue;
      }
      for (String name : option.names()) {
        String key = name.replaceFirst("^-+", "");
        if (values.containsKey(key) && options.containsKey(key)) {
          option.setValue(values.get(key));
          break;
        }
      }
    }
    Map<String, Object> extras = new LinkedHashMap<>(values);
    extras.keySet().retainAll(extraKeys.keySet());
    return extras;
  }

  /**
   * Fails as a usage error when an option has neither a flag nor a key.
   *
   * @throws CommandLine.ParameterException naming the flag, the key and the file
   */
  public static void require(CommandSpec spec, String... optionNames) {
    List<String> missing = new ArrayList<>();
    for (String name : optionNames) {
      OptionSpec option = spec.findOption(name);
      if (option == null) {
        throw new IllegalArgumentException("no option " + name + " in " + spec.qualifiedName());
      }
      if (option.getValue() == null) {
        missing.add("'" + option.longestName() + "' (or " + key(option) + ": in the "
            + CONFIG_OPTION + " file)");
      }
    }
    if (!missing.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "Missing required option" + (missing.size() > 1 ? "s: " : ": ")
              + String.join(", ", missing));
    }
  }

  private static Object optionValue(ConfigFile file, ConfigFile.Entry entry, OptionSpec option)
      throws ConfigFile.Problem {
    Class<?> type = option.type();
    Class<?>[] auxiliary = option.auxiliaryTypes();
    CommandLine.ITypeConverter<?>[] converters = option.converters();
    CommandLine.ITypeConverter<?> converter = converters.length > 0 ? converters[0] : null;
    if (option.arity().max() == 0 && (type == boolean.class || type == Boolean.class)) {
      return file.value(entry, Boolean.class, Boolean.class, null, null);
    }
    Class<?> element = auxiliary.length > 0 ? auxiliary[0] : type;
    return file.value(entry, type, element, converter, option.splitRegex());
  }
}
