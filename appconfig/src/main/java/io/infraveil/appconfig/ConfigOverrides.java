package io.infraveil.appconfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * The {@code overrides:} block of a config.yaml: partial configs keyed by a host label selector,
 * merged over the base config for the hosts whose labels match.
 *
 * <pre>
 * overrides:
 *   provider=aws:                # k=v pairs, comma-separated; a host matches when it has all
 *     services:
 *       api:                     # a service of the base config (instances cannot be changed)
 *         env: { REGION: eu-west-1 }
 *         run: { start: [ "./api --aws" ] }
 * </pre>
 *
 * <p>Merge rule: mappings merge key by key, recursively (so {@code env:} adds and replaces
 * variables, {@code run: {start: ...}} keeps the base's preflight); anything else (a list, a
 * number, a string, {@code ~}) replaces the base value whole. Several matching overrides apply
 * in file order, a later one winning. The parser validates every override merged alone over the
 * base, naming the file and the line of the value at fault.
 *
 * <p>Holds the parsed YAML of the base and of each override (never exposed), so it is equal
 * only to itself: compare the {@code services} of merged configs, not configs.
 */
public final class ConfigOverrides {

  /** No {@code overrides:} block. */
  public static final ConfigOverrides NONE = new ConfigOverrides("config.yaml", null, List.of());

  /** One override: its selector, the line it starts on, and its partial config (a mapping). */
  record Entry(Map<String, String> selector, int line, MappingNode patch) {
    Entry {
      selector = Collections.unmodifiableMap(new TreeMap<>(selector));
      Objects.requireNonNull(patch, "patch");
    }
  }

  private final String file;
  /** The whole base document without {@code overrides:}; null when there are none. */
  private final MappingNode base;
  private final List<Entry> overrides;

  ConfigOverrides(String file, MappingNode base, List<Entry> overrides) {
    this.file = Objects.requireNonNull(file, "file");
    this.base = base;
    this.overrides = List.copyOf(overrides);
  }

  public boolean isEmpty() {
    return overrides.isEmpty();
  }

  /** The selectors, in file order (each sorted by key). */
  public List<Map<String, String>> selectors() {
    return overrides.stream().map(Entry::selector).toList();
  }

  /** The selectors of the overrides that apply to a host with {@code hostLabels}, in order. */
  public List<Map<String, String>> matching(Map<String, String> hostLabels) {
    Objects.requireNonNull(hostLabels, "hostLabels");
    return overrides.stream().map(Entry::selector)
        .filter(selector -> matches(selector, hostLabels)).toList();
  }

  /**
   * The config a host with {@code hostLabels} runs: {@code base} with every override whose
   * selector its labels match merged over it, in file order (a later override wins), validated
   * as a whole. A pure function: nothing is read or changed; the same arguments give an equal
   * result, and {@code base} itself comes back when no override matches (or there are none).
   * The result still carries the overrides, so calling this again on it gives the same config.
   *
   * @param base a config from {@link AppConfigParser}
   * @param hostLabels the host's labels (as enrolled), exact match on key and value
   * @throws ConfigException when matching overrides that are each valid alone make an invalid
   *     config together (say a secret's env name one override adds that another sets in env);
   *     problems name the file and line as the parser's do
   */
  public static AppConfig mergedFor(AppConfig base, Map<String, String> hostLabels)
      throws ConfigException {
    Objects.requireNonNull(base, "base");
    ConfigOverrides self = base.overrides();
    List<Entry> applying = self.overrides.stream()
        .filter(o -> matches(o.selector(), hostLabels)).toList();
    if (applying.isEmpty()) {
      return base;
    }
    MappingNode merged = self.base;
    for (Entry override : applying) {
      merged = merge(merged, override.patch());
    }
    return AppConfigParser.fromMerged(self.file, merged, self);
  }

  /**
   * The YAML a host with {@code hostLabels} runs: the base with the matching overrides merged
   * over it (the {@code overrides:} block itself left out), or empty when none matches and the
   * file as written is what runs. For showing, as {@code ctl plan} does; comments are not kept.
   */
  public static Optional<String> mergedYamlFor(AppConfig base, Map<String, String> hostLabels) {
    Objects.requireNonNull(base, "base");
    ConfigOverrides self = base.overrides();
    List<Entry> applying = self.overrides.stream()
        .filter(o -> matches(o.selector(), hostLabels)).toList();
    if (applying.isEmpty()) {
      return Optional.empty();
    }
    MappingNode merged = self.base;
    for (Entry override : applying) {
      merged = merge(merged, override.patch());
    }
    java.io.StringWriter out = new java.io.StringWriter();
    org.yaml.snakeyaml.DumperOptions options = new org.yaml.snakeyaml.DumperOptions();
    options.setDefaultFlowStyle(org.yaml.snakeyaml.DumperOptions.FlowStyle.BLOCK);
    new org.yaml.snakeyaml.Yaml(options).serialize(merged, out);
    return Optional.of(out.toString());
  }

  /** {@code provider=aws,zone=a} as a map; refuses empty parts and a key given twice. */
  public static Map<String, String> parseSelector(String text) {
    Map<String, String> selector = new LinkedHashMap<>();
    if (text.isBlank()) {
      throw new IllegalArgumentException("a selector needs at least one label, as k=v");
    }
    for (String part : text.split(",", -1)) {
      int eq = part.indexOf('=');
      String key = eq < 0 ? "" : part.substring(0, eq).trim();
      String value = eq < 0 ? "" : part.substring(eq + 1).trim();
      if (eq < 0 || key.isEmpty() || value.isEmpty() || value.contains("=")) {
        throw new IllegalArgumentException("selector must be label pairs k=v separated by"
            + " commas (provider=aws,zone=a), got \"" + part.trim() + "\" in \"" + text + "\"");
      }
      if (selector.containsKey(key)) {
        throw new IllegalArgumentException("label " + key + " is given twice (" + key + "="
            + selector.get(key) + " and " + key + "=" + value + "); a host has one value per"
            + " label, so this would match no host");
      }
      selector.put(key, value);
    }
    return selector;
  }

  /** {@code provider=aws,zone=a}, keys sorted. */
  public static String selectorText(Map<String, String> selector) {
    return new TreeMap<>(selector).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(","));
  }

  static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    return selector.entrySet().stream()
        .allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  /** A copy of {@code root} without the top-level {@code key}. */
  static MappingNode without(MappingNode root, String key) {
    List<NodeTuple> kept = new ArrayList<>();
    for (NodeTuple tuple : root.getValue()) {
      if (!(tuple.getKeyNode() instanceof ScalarNode s && s.getValue().equals(key))) {
        kept.add(tuple);
      }
    }
    return new MappingNode(root.getTag(), true, kept, root.getStartMark(), root.getEndMark(),
        root.getFlowStyle());
  }

  /**
   * {@code patch} over {@code base}: mappings merge key by key, anything else replaces. Returns
   * new nodes; neither argument changes. Values keep their marks, so a problem in a merged
   * value names the line it was written on.
   */
  static MappingNode merge(MappingNode base, MappingNode patch) {
    List<NodeTuple> result = new ArrayList<>(base.getValue());
    for (NodeTuple change : patch.getValue()) {
      String key = ((ScalarNode) change.getKeyNode()).getValue();
      int at = indexOf(result, key);
      if (at < 0) {
        result.add(change);
        continue;
      }
      Node old = result.get(at).getValueNode();
      Node value = old instanceof MappingNode oldMap && change.getValueNode() instanceof MappingNode
          newMap ? merge(oldMap, newMap) : change.getValueNode();
      result.set(at, new NodeTuple(result.get(at).getKeyNode(), value));
    }
    return new MappingNode(base.getTag(), true, result, base.getStartMark(), base.getEndMark(),
        base.getFlowStyle());
  }

  private static int indexOf(List<NodeTuple> tuples, String key) {
    for (int i = 0; i < tuples.size(); i++) {
      if (tuples.get(i).getKeyNode() instanceof ScalarNode s && s.getValue().equals(key)) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public String toString() {
    return "ConfigOverrides" + selectors().stream().map(ConfigOverrides::selectorText).toList();
  }
}
