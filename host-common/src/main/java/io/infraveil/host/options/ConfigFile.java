package io.infraveil.host.options;

import io.infraveil.appconfig.Durations;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import picocli.CommandLine;

/**
 * A program's {@code --config FILE}: one flat YAML mapping whose keys are the program's long
 * option names without the dashes ({@code data-dir: /var/lib/infraveil}). Every key is
 * remembered with its line, so an unknown key or a value of the wrong type is reported as
 * {@code FILE:LINE: KEY: ...}. Relative paths are relative to the file's directory.
 */
public final class ConfigFile {

  static final long MAX_BYTES = 1 << 20;

  /** One key of the file, its value and the line it is on (1-based). */
  public record Entry(String key, Node value, int line) {}

  private final Path file;
  private final Map<String, Entry> entries;

  private ConfigFile(Path file, Map<String, Entry> entries) {
    this.file = file;
    this.entries = Collections.unmodifiableMap(entries);
  }

  /**
   * Reads and checks the file's shape (a mapping of distinct keys).
   *
   * @throws ConfigFileException naming the file (and the line) when it cannot be used
   */
  public static ConfigFile read(Path file) {
    Objects.requireNonNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new ConfigFileException(file + ": config file does not exist or is not a regular file");
    }
    if (file.getFileName().toString().endsWith(".properties")) {
      throw new ConfigFileException(file + ": config files are YAML with flat keys"
          + " (data-dir: /var/lib/infraveil); .properties files are not read");
    }
    Node root;
    try {
      if (Files.size(file) > MAX_BYTES) {
        throw new ConfigFileException(file + ": config file is larger than 1 MiB");
      }
      try (Reader reader = Files.newBufferedReader(file)) {
        root = new Yaml(new SafeConstructor(new LoaderOptions())).compose(reader);
      }
    } catch (MarkedYAMLException e) {
      throw new ConfigFileException(file + ":" + (e.getProblemMark().getLine() + 1)
          + ": not valid YAML: " + e.getProblem());
    } catch (YAMLException e) {
      throw new ConfigFileException(file + ": not valid YAML: " + e.getMessage());
    } catch (IOException e) {
      throw new ConfigFileException(file + ": cannot read config file: " + e.getMessage());
    }
    Map<String, Entry> entries = new LinkedHashMap<>();
    if (root == null) {
      return new ConfigFile(file, entries);
    }
    if (!(root instanceof MappingNode mapping)) {
      throw new ConfigFileException(file + ":" + line(root)
          + ": a config file is a mapping of keys to values (key: value), got " + kind(root));
    }
    List<String> problems = new ArrayList<>();
    for (NodeTuple tuple : mapping.getValue()) {
      Node keyNode = tuple.getKeyNode();
      if (!(keyNode instanceof ScalarNode scalar)) {
        problems.add(file + ":" + line(keyNode) + ": keys are plain names, got " + kind(keyNode));
        continue;
      }
      String key = scalar.getValue();
      Entry previous = entries.putIfAbsent(key, new Entry(key, tuple.getValueNode(), line(keyNode)));
      if (previous != null) {
        problems.add(file + ":" + line(keyNode) + ": " + key + ": given twice (first on line "
            + previous.line() + ")");
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigFileException(problems);
    }
    return new ConfigFile(file, entries);
  }

  public Path path() {
    return file;
  }

  /** Every key in file order. */
  public Map<String, Entry> entries() {
    return entries;
  }

  /** {@code FILE:LINE: KEY: message}, the form of every problem with an entry. */
  String problem(Entry entry, String message) {
    return file + ":" + entry.line() + ": " + entry.key() + ": " + message;
  }

  /** {@code FILE:LINE: KEY: unknown key; did you mean ...}, with the nearest known key. */
  String unknown(Entry entry, Set<String> known) {
    String key = entry.key();
    String hint = null;
    String flat = key.substring(key.lastIndexOf('.') + 1);
    if (!flat.equals(key) && known.contains(flat)) {
      hint = "keys are flat: write " + flat + ": at the top level";
    } else if (entry.value() instanceof MappingNode nested) {
      List<String> inner = new ArrayList<>();
      for (NodeTuple tuple : nested.getValue()) {
        if (tuple.getKeyNode() instanceof ScalarNode scalar) {
          String name = scalar.getValue().substring(scalar.getValue().lastIndexOf('.') + 1);
          if (known.contains(name)) {
            inner.add(name + ":");
          }
        }
      }
      hint = inner.isEmpty() ? "keys are flat (no nested mappings)"
          : "keys are flat: write " + String.join(", ", inner) + " at the top level";
    }
    if (hint == null) {
      String nearest = Suggestions.nearest(key, known);
      hint = nearest == null ? "" : "did you mean " + nearest + "?";
    }
    return problem(entry, "unknown key" + (hint.isEmpty() ? "" : "; " + hint)
        + " (known keys: " + String.join(", ", known) + ")");
  }

  /**
   * The entry's value as {@code type}: a list for collection types (a YAML sequence, or one
   * value), a map of strings for map types (a YAML mapping), otherwise one scalar.
   * {@code converter} (may be null) turns scalars into the element type when given. When
   * {@code split} is a regex (the option's, as on the command line), one scalar given for a
   * list or map is split by it ({@code zone=a,tier=web}).
   *
   * @throws Problem saying what is wrong with the value
   */
  Object value(Entry entry, Class<?> type, Class<?> elementType,
      CommandLine.ITypeConverter<?> converter, String split) throws Problem {
    Node node = entry.value();
    boolean splits = split != null && !split.isEmpty() && node instanceof ScalarNode
        && !((ScalarNode) node).getTag().equals(Tag.NULL);
    if (Collection.class.isAssignableFrom(type)) {
      List<Object> out = new ArrayList<>();
      if (splits) {
        for (String part : ((ScalarNode) node).getValue().split(split)) {
          out.add(scalar(new ScalarNode(Tag.STR, part, node.getStartMark(), node.getEndMark(),
              DumperOptions.ScalarStyle.PLAIN), elementType, converter));
        }
        return out;
      }
      List<Node> items = node instanceof SequenceNode sequence ? sequence.getValue() : List.of(node);
      for (Node item : items) {
        out.add(scalar(item, elementType, converter));
      }
      return out;
    }
    if (Map.class.isAssignableFrom(type)) {
      Map<String, String> out = new LinkedHashMap<>();
      if (splits) {
        for (String part : ((ScalarNode) node).getValue().split(split)) {
          int eq = part.indexOf('=');
          if (eq <= 0) {
            throw new Problem("must be name=value pairs or a mapping, got \"" + part + "\"");
          }
          out.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
        }
        return out;
      }
      if (!(node instanceof MappingNode mapping)) {
        throw new Problem("must be a mapping (name: value, one per line), got " + kind(node));
      }
      for (NodeTuple tuple : mapping.getValue()) {
        out.put((String) scalar(tuple.getKeyNode(), String.class, null),
            (String) scalar(tuple.getValueNode(), String.class, null));
      }
      return out;
    }
    return scalar(node, type, converter);
  }

  /** Types a key can set without a converter of its own (elements of lists, for lists). */
  public static final Set<Class<?>> SCALAR_TYPES = Set.of(Duration.class, int.class,
      Integer.class, long.class, Long.class, boolean.class, Boolean.class, Path.class,
      String.class);

  private Object scalar(Node node, Class<?> type, CommandLine.ITypeConverter<?> converter)
      throws Problem {
    if (!(node instanceof ScalarNode scalar)) {
      throw new Problem("must be a single value, got " + kind(node));
    }
    if (scalar.getTag().equals(Tag.NULL)) {
      throw new Problem("has no value; remove the line to use the default");
    }
    String text = scalar.getValue();
    Tag tag = scalar.getTag();
    if (converter != null) {
      try {
        return converter.convert(text);
      } catch (Exception e) {
        throw new Problem(e.getMessage());
      }
    }
    if (type == Duration.class) {
      return Durations.parse(text).orElseThrow(() -> new Problem(
          "must be a duration (" + Durations.ACCEPTED_FORMS + "), got \"" + text + "\""));
    }
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
      if (!tag.equals(Tag.INT)) {
        throw new Problem("must be a whole number, got " + describe(scalar));
      }
      try {
        long value = Long.parseLong(text.replace("_", ""));
        if (type == int.class || type == Integer.class) {
          return Math.toIntExact(value);
        }
        return value;
      } catch (NumberFormatException | ArithmeticException e) {
        throw new Problem("must be a whole number in range, got " + describe(scalar));
      }
    }
    if (type == boolean.class || type == Boolean.class) {
      if (!tag.equals(Tag.BOOL)) {
        throw new Problem("must be true or false, got " + describe(scalar));
      }
      return Set.of("true", "yes", "on", "y").contains(text.toLowerCase(Locale.ROOT));
    }
    if (type == Path.class) {
      Path path = Path.of(text);
      Path dir = file.toAbsolutePath().getParent();
      return path.isAbsolute() || dir == null ? path : dir.resolve(path).normalize();
    }
    if (type == String.class) {
      return text;
    }
    throw new IllegalStateException("config files cannot set options of type " + type.getName()
        + " yet; add it to ConfigFile.scalar");
  }

  private static String describe(ScalarNode scalar) {
    return "\"" + scalar.getValue() + "\"";
  }

  private static String kind(Node node) {
    if (node instanceof SequenceNode) {
      return "a list";
    }
    if (node instanceof MappingNode) {
      return "a mapping";
    }
    return node instanceof ScalarNode scalar ? "\"" + scalar.getValue() + "\"" : "nothing";
  }

  private static int line(Node node) {
    return node.getStartMark().getLine() + 1;
  }

  /** What is wrong with one value; the caller adds file, line and key. */
  static final class Problem extends Exception {
    Problem(String message) {
      super(message, null, false, false);
    }
  }
}
