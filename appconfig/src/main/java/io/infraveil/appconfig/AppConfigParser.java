package io.infraveil.appconfig;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.reader.UnicodeReader;

/**
 * Parses and validates a payload's {@code config.yaml}. Works on SnakeYAML's node tree, so every
 * problem names the file, the line and the field path; all problems are reported together.
 *
 * <pre>
 * services:                    # required, at least one
 *   NAME:                      # [a-z0-9][a-z0-9-]*, at most 63 characters
 *     instances: 1             # 1..64, hosts that run it
 *     clusters: 1              # 1..64, processes per host (INFRAVEIL_CLUSTER_INDEX)
 *     run:
 *       preflight: []          # shell commands, each must exit 0
 *       start: [ "cmd" ]       # required, at least one
 *       postflight: []
 *     healthcheck:             # optional; without it a service is healthy while it runs
 *       cmd: "curl -s ..."     # required in the block
 *       test: ok               # optional: output must contain it; else exit 0
 *       interval: 30s          # 500ms, 30s, 2m, 1h, 1h30m, whole seconds or PT30S
 *       timeout: 10s
 *       start_period: 20s      # optional: how long the first check after a start may fail
 *     env: { KEY: value }      # optional; INFRAVEIL_* is reserved
 *     stop_signal: TERM        # TERM INT HUP QUIT KILL USR1 USR2
 *     stop_timeout: 10s
 *     resources:               # optional limits per instance (cgroup)
 *       memory: 256Mi          # bytes, or Ki Mi Gi Ti (1024) / K M G T (1000); at least 4Mi
 *       cpu: 0.5               # cores, 0.01..1024
 *       pids: 512              # processes and threads
 *     user: www-data           # optional account to run as (the agent must be root)
 *     secrets:                 # optional; values set with `infraveil ctl secrets set`
 *       - { name: db_password, env: DB_PASSWORD }   # as an environment variable
 *       - { name: tls_key, file: tls.key }          # as $INFRAVEIL_SECRETS_DIR/tls.key
 * </pre>
 */
public final class AppConfigParser {

  /** Files larger than this are refused before parsing. */
  public static final int MAX_BYTES = 1024 * 1024;

  /** Aliases of mappings or lists a file may use: enough for reuse, too few for a bomb. */
  static final int MAX_COLLECTION_ALIASES = 20;

  static final Pattern SERVICE_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Set<String> SIGNALS =
      Set.of("TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2");

  private static final List<String> ROOT_KEYS = List.of("services", "rollout", "overrides");
  private static final List<String> ROLLOUT_KEYS = List.of("max_parallel", "canary", "min_healthy_time",
      "healthy_deadline", "auto_promote", "auto_revert");
  private static final List<String> OVERRIDE_KEYS = List.of("services");
  private static final List<String> SERVICE_KEYS = List.of("instances", "clusters", "run",
      "healthcheck", "env", "stop_signal", "stop_timeout", "resources", "user", "secrets",
      "ports");
  private static final List<String> RESOURCE_KEYS = List.of("memory", "cpu", "pids");
  private static final Pattern USER_NAME = Pattern.compile("[a-z_][a-z0-9_.-]{0,31}\\$?");
  private static final List<String> SECRET_KEYS = List.of("name", "env", "file");
  private static final List<String> RUN_KEYS = List.of("preflight", "start", "postflight");
  private static final List<String> HEALTH_KEYS = List.of("cmd", "test", "interval", "timeout", "start_period");

  private final String file;
  private final List<ConfigProblem> problems = new ArrayList<>();

  private AppConfigParser(String file) {
    this.file = file;
  }

  /** Parses {@code yaml}, naming {@code fileName} in problems. */
  public static AppConfig parse(String fileName, byte[] yaml) throws ConfigException {
    return new AppConfigParser(fileName).parseBytes(yaml);
  }

  /**
   * Reads and parses a file, refusing a symlink or other non-regular file (it says which) and
   * one over {@link #MAX_BYTES} before reading it.
   */
  public static AppConfig parse(Path file) throws ConfigException, IOException {
    String name = file.getFileName().toString();
    if (Files.isSymbolicLink(file)) {
      throw new ConfigException(List.of(new ConfigProblem(name, 0, "", "is a symlink (to '"
          + Files.readSymbolicLink(file) + "'), not a regular file: put the file itself at the payload root")));
    }
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new ConfigException(List.of(new ConfigProblem(name, 0, "",
          "is not a regular file (a directory, device or fifo)")));
    }
    long size = Files.size(file);
    if (size > MAX_BYTES) {
      throw new ConfigException(List.of(tooLarge(name, size)));
    }
    return parse(name, Files.readAllBytes(file));
  }

  private static ConfigProblem tooLarge(String name, long size) {
    return new ConfigProblem(name, 0, "",
        "file is " + size + " bytes, larger than the limit of " + MAX_BYTES + " bytes");
  }

  private AppConfig parseBytes(byte[] yaml) throws ConfigException {
    if (yaml.length > MAX_BYTES) {
      throw new ConfigException(List.of(tooLarge(file, yaml.length)));
    }
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      options.setMaxAliasesForCollections(MAX_COLLECTION_ALIASES);
      options.setCodePointLimit(MAX_BYTES);
      Yaml parser = new Yaml(options);
      ConfigProblem bomb = aliasBomb(parser, yaml);
      if (bomb != null) {
        throw new ConfigException(List.of(bomb));
      }
      root = parser.compose(new UnicodeReader(new ByteArrayInputStream(yaml)));
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      int line = mark == null ? 0 : mark.getLine() + 1;
      String what = e.getProblem() != null ? e.getProblem() : e.getMessage();
      String context = e.getContext() != null ? " (" + e.getContext() + ")" : "";
      throw new ConfigException(List.of(
          new ConfigProblem(file, line, "", "YAML syntax error: " + what + context)));
    } catch (YAMLException e) {
      throw new ConfigException(List.of(
          new ConfigProblem(file, 0, "", "not readable as YAML: " + e.getMessage())));
    }
    if (root == null) {
      throw new ConfigException(List.of(new ConfigProblem(file, 0, "",
          "file is empty; it needs a services mapping with at least one service")));
    }
    AppConfig config = root(root);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return config;
  }

  /**
   * Finds the alias that takes a file past {@link #MAX_COLLECTION_ALIASES} aliases of mappings
   * or lists, and names its line. SnakeYAML refuses such a file too, but without a line; this
   * pass over the event stream (nothing is expanded) says where the bomb is.
   */
  private ConfigProblem aliasBomb(Yaml parser, byte[] yaml) {
    Set<String> collectionAnchors = new java.util.HashSet<>();
    int aliases = 0;
    for (Event event : parser.parse(new UnicodeReader(new ByteArrayInputStream(yaml)))) {
      if (event instanceof CollectionStartEvent start && start.getAnchor() != null) {
        collectionAnchors.add(start.getAnchor());
      } else if (event instanceof AliasEvent alias && collectionAnchors.contains(alias.getAnchor())
          && ++aliases > MAX_COLLECTION_ALIASES) {
        int line = alias.getStartMark() == null ? 0 : alias.getStartMark().getLine() + 1;
        return new ConfigProblem(file, line, "", "alias *" + alias.getAnchor() + " is alias number "
            + aliases + " of a mapping or list; at most " + MAX_COLLECTION_ALIASES + " are allowed, so that"
            + " a small file cannot expand into a huge one (an alias bomb): write the values out");
      }
    }
    return null;
  }

  private AppConfig root(Node root) {
    Map<String, NodeTuple> keys = mapping(root, "", ROOT_KEYS);
    if (keys == null) {
      return null;
    }
    AppConfig base = services(root, keys.get("services"), ConfigOverrides.NONE);
    RolloutSpec rollout = rollout(keys.get("rollout"));
    NodeTuple overridesTuple = keys.get("overrides");
    if (overridesTuple == null || isNull(overridesTuple.getValueNode())) {
      return base == null ? null : new AppConfig(base.services(), rollout, ConfigOverrides.NONE);
    }
    MappingNode baseRoot = ConfigOverrides.without((MappingNode) root, "overrides");
    ConfigOverrides overrides = overrides(overridesTuple.getValueNode(), baseRoot, base);
    return base == null || overrides == null ? null
        : new AppConfig(base.services(), rollout, overrides);
  }

  /**
   * The {@code overrides:} block: each selector's partial config, checked on its own and then
   * merged over the base and validated as a whole, so a bad value is reported with its own
   * line. Not checked while the base itself has problems (they would repeat once per override).
   */
  private ConfigOverrides overrides(Node node, MappingNode baseRoot, AppConfig base) {
    Map<String, NodeTuple> selectors = mapping(node, "overrides", null);
    if (selectors == null) {
      return null;
    }
    Set<String> baseServices = new java.util.HashSet<>();
    if (base != null) {
      baseServices.addAll(base.services().keySet());
    }
    List<ConfigOverrides.Entry> parsed = new ArrayList<>();
    Map<Map<String, String>, Integer> seen = new java.util.HashMap<>();
    int before = problems.size();
    selectors.forEach((text, tuple) -> {
      String path = "overrides." + text;
      Node keyNode = tuple.getKeyNode();
      Map<String, String> selector;
      try {
        selector = ConfigOverrides.parseSelector(text);
      } catch (IllegalArgumentException e) {
        problem(keyNode, path, e.getMessage());
        return;
      }
      if (seen.containsKey(selector)) {
        problem(keyNode, path, "selects the same hosts as the override on line "
            + seen.get(selector) + "; merge the two");
        return;
      }
      seen.put(selector, line(keyNode));
      Map<String, NodeTuple> parts = mapping(tuple.getValueNode(), path, OVERRIDE_KEYS);
      if (parts == null) {
        return;
      }
      NodeTuple servicesTuple = parts.get("services");
      if (servicesTuple == null) {
        problem(tuple.getValueNode(), path + ".services", "is required: the services this"
            + " override changes, each with the keys it changes");
        return;
      }
      Map<String, NodeTuple> services = mapping(servicesTuple.getValueNode(), path + ".services",
          null);
      if (services == null) {
        return;
      }
      services.forEach((name, service) -> {
        String servicePath = path + ".services." + name;
        if (base != null && !baseServices.contains(name)) {
          problem(service.getKeyNode(), servicePath, "names no service of the base config ("
              + String.join(", ", baseServices) + "); an override changes services, it does"
              + " not add them");
          return;
        }
        Map<String, NodeTuple> fields = mapping(service.getValueNode(), servicePath,
            SERVICE_KEYS);
        if (fields != null && fields.containsKey("instances")) {
          problem(fields.get("instances").getKeyNode(), servicePath + ".instances",
              "cannot be overridden per host: instances is placement, decided across hosts");
        }
      });
      parsed.add(new ConfigOverrides.Entry(selector, line(keyNode),
          (MappingNode) tuple.getValueNode()));
    });
    if (problems.size() != before || base == null) {
      return null;
    }
    ConfigOverrides overrides = new ConfigOverrides(file, baseRoot, parsed);
    for (ConfigOverrides.Entry override : parsed) {
      MappingNode merged = ConfigOverrides.merge(baseRoot, override.patch());
      AppConfigParser check = new AppConfigParser(file);
      Map<String, NodeTuple> mergedKeys = check.mapping(merged, "", ROOT_KEYS);
      check.services(merged, mergedKeys.get("services"), ConfigOverrides.NONE);
      String prefix = "overrides." + ConfigOverrides.selectorText(override.selector()) + ": ";
      for (ConfigProblem p : check.problems) {
        problems.add(new ConfigProblem(p.file(), p.line(), p.fieldPath(), prefix + p.message()));
      }
    }
    return problems.size() == before ? overrides : null;
  }

  /** The base {@code services:} of a config (or of a base merged with overrides). */
  AppConfig services(Node root, NodeTuple servicesTuple, ConfigOverrides overrides) {
    if (servicesTuple == null) {
      problem(root, "services", "is required: at least one service");
      return null;
    }
    Node servicesNode = servicesTuple.getValueNode();
    Map<String, NodeTuple> services = mapping(servicesNode, "services", null);
    if (services == null) {
      return null;
    }
    if (services.isEmpty()) {
      problem(servicesNode, "services", "must name at least one service");
      return null;
    }
    int before = problems.size();
    Map<String, ServiceSpec> specs = new LinkedHashMap<>();
    services.forEach((name, tuple) -> {
      String path = "services." + name;
      boolean nameOk = SERVICE_NAME.matcher(name).matches();
      if (!nameOk) {
        problem(tuple.getKeyNode(), path, "service name must be lower-case letters, digits and"
            + " dashes, starting with a letter or digit, at most 63 characters");
      }
      ServiceSpec spec = service(name, nameOk, tuple.getValueNode(), path);
      if (spec != null && nameOk) {
        specs.put(name, spec);
      }
    });
    return problems.size() == before ? new AppConfig(specs, RolloutSpec.NONE, overrides) : null;
  }

  /**
   * Validates an already composed tree (a base merged with overrides); used by
   * {@link ConfigOverrides#mergedFor}.
   */
  static AppConfig fromMerged(String file, MappingNode merged, ConfigOverrides overrides)
      throws ConfigException {
    AppConfigParser parser = new AppConfigParser(file);
    Map<String, NodeTuple> keys = parser.mapping(merged, "", ROOT_KEYS);
    AppConfig services = keys == null ? null
        : parser.services(merged, keys.get("services"), overrides);
    AppConfig config = services == null ? null
        : new AppConfig(services.services(), parser.rollout(keys.get("rollout")), overrides);
    if (!parser.problems.isEmpty()) {
      throw new ConfigException(parser.problems);
    }
    return config;
  }

  /** The optional rollout block; every key optional, each checked like the rest. */
  private RolloutSpec rollout(NodeTuple tuple) {
    if (tuple == null) {
      return RolloutSpec.NONE;
    }
    Map<String, NodeTuple> keys = mapping(tuple.getValueNode(), "rollout", ROLLOUT_KEYS);
    if (keys == null) {
      return RolloutSpec.NONE;
    }
    Optional<Integer> maxParallel = keys.containsKey("max_parallel")
        ? Optional.of(count(keys.get("max_parallel"), "rollout.max_parallel", 10_000)) : Optional.empty();
    Optional<Integer> canary = keys.containsKey("canary")
        ? Optional.of(natural(keys.get("canary"), "rollout.canary", 10_000)) : Optional.empty();
    Optional<Duration> minHealthy = keys.containsKey("min_healthy_time")
        ? Optional.of(duration(keys.get("min_healthy_time"), "rollout.min_healthy_time", Duration.ZERO))
        : Optional.empty();
    Optional<Duration> deadline = keys.containsKey("healthy_deadline")
        ? Optional.of(duration(keys.get("healthy_deadline"), "rollout.healthy_deadline", Duration.ZERO))
        : Optional.empty();
    if (minHealthy.isPresent() && deadline.isPresent() && !deadline.get().isZero()
        && deadline.get().compareTo(minHealthy.get()) <= 0) {
      problem(keys.get("healthy_deadline").getValueNode(), "rollout.healthy_deadline", "must be longer than"
          + " rollout.min_healthy_time (" + describe(keys.get("min_healthy_time").getValueNode())
          + "): a host could never count as healthy in time");
    }
    return new RolloutSpec(maxParallel, canary, minHealthy, deadline,
        flag(keys.get("auto_promote"), "rollout.auto_promote"), flag(keys.get("auto_revert"), "rollout.auto_revert"));
  }

  /** An integer from 0 to {@code max}. */
  private int natural(NodeTuple tuple, String path, int max) {
    Node node = tuple.getValueNode();
    if (node instanceof ScalarNode scalar && Tag.INT.equals(node.getTag())) {
      try {
        long value = Long.parseLong(scalar.getValue().replace("_", ""));
        if (value >= 0 && value <= max) {
          return (int) value;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    problem(node, path, "must be an integer between 0 and " + max + ", got " + describe(node));
    return 0;
  }

  private Optional<Boolean> flag(NodeTuple tuple, String path) {
    if (tuple == null) {
      return Optional.empty();
    }
    Node node = tuple.getValueNode();
    if (node instanceof ScalarNode scalar && Tag.BOOL.equals(node.getTag())) {
      String value = scalar.getValue().toLowerCase(java.util.Locale.ROOT);
      return Optional.of(value.equals("true") || value.equals("yes") || value.equals("on") || value.equals("y"));
    }
    problem(node, path, "must be true or false, got " + describe(node));
    return Optional.empty();
  }

  private ServiceSpec service(String name, boolean nameOk, Node node, String path) {
    Map<String, NodeTuple> keys = mapping(node, path, SERVICE_KEYS);
    if (keys == null) {
      return null;
    }
    int before = problems.size();
    int instances = count(keys.get("instances"), path + ".instances", ServiceSpec.MAX_INSTANCES);
    int clusters = count(keys.get("clusters"), path + ".clusters", ServiceSpec.MAX_CLUSTERS);
    RunSpec run = null;
    NodeTuple runTuple = keys.get("run");
    if (runTuple == null) {
      problem(node, path + ".run", "is required, with at least one start command");
    } else {
      run = run(runTuple.getValueNode(), path + ".run");
    }
    Optional<HealthCheckSpec> health = Optional.empty();
    NodeTuple healthTuple = keys.get("healthcheck");
    if (healthTuple != null && !isNull(healthTuple.getValueNode())) {
      health = healthcheck(healthTuple.getValueNode(), path + ".healthcheck");
    }
    Map<String, String> env = env(keys.get("env"), path + ".env");
    String signal = signal(keys.get("stop_signal"), path + ".stop_signal");
    Duration stopTimeout = duration(keys.get("stop_timeout"), path + ".stop_timeout",
        ServiceSpec.DEFAULT_STOP_TIMEOUT);
    ResourcesSpec resources = resources(keys.get("resources"), path + ".resources");
    Optional<String> user = user(keys.get("user"), path + ".user");
    List<SecretRef> secrets = secrets(keys.get("secrets"), path + ".secrets", env.keySet());
    List<PortSpec> ports = ports(keys.get("ports"), path + ".ports");
    if (problems.size() != before || run == null || !nameOk) {
      return null;
    }
    return new ServiceSpec(name, instances, clusters, run, health, env, signal, stopTimeout,
        resources, user, secrets, ports);
  }

  /**
   * {@code ports: [http, admin]} (the agent picks each, per cluster index) or
   * {@code ports: {http: 8080, admin: auto}} (a number is fixed, the same for every index).
   */
  private List<PortSpec> ports(NodeTuple tuple, String path) {
    List<PortSpec> ports = new ArrayList<>();
    if (tuple == null || isNull(tuple.getValueNode())) {
      return ports;
    }
    Node node = tuple.getValueNode();
    Map<String, Node> named = new LinkedHashMap<>();
    Map<String, Node> nameNodes = new LinkedHashMap<>();
    if (node instanceof SequenceNode sequence) {
      List<Node> items = sequence.getValue();
      for (int i = 0; i < items.size(); i++) {
        String name = text(items.get(i), path + "[" + i + "]");
        if (name == null) {
          continue;
        }
        if (nameNodes.containsKey(name)) {
          problem(items.get(i), path + "[" + i + "]", "port " + name + " is named twice");
          continue;
        }
        nameNodes.put(name, items.get(i));
        named.put(name, null);
      }
    } else if (node instanceof MappingNode) {
      Map<String, NodeTuple> keys = mapping(node, path, null);
      if (keys == null) {
        return ports;
      }
      keys.forEach((name, entry) -> {
        nameNodes.put(name, entry.getKeyNode());
        named.put(name, entry.getValueNode());
      });
    } else {
      problem(node, path, "must be a list of port names ([http, admin]) or a mapping of names"
          + " to fixed ports ({http: 8080}) or auto, got " + describe(node));
      return ports;
    }
    named.forEach((name, value) -> {
      String portPath = path + "." + name;
      if (!PortSpec.NAME.matcher(name).matches()) {
        problem(nameNodes.get(name), portPath, "port names are lower-case letters, digits and"
            + " underscores, starting with a letter, at most 31 characters (the service reads"
            + " INFRAVEIL_PORT_<NAME>)");
        return;
      }
      if (value == null || isNull(value)
          || (value instanceof ScalarNode s && s.getValue().equals("auto"))) {
        ports.add(PortSpec.dynamic(name));
        return;
      }
      long number = -1;
      if (value instanceof ScalarNode s && Tag.INT.equals(value.getTag())) {
        try {
          number = Long.parseLong(s.getValue().replace("_", ""));
        } catch (NumberFormatException e) {
          number = -1;
        }
      }
      if (number < 1 || number > 65535) {
        problem(value, portPath, "must be a port number 1..65535 or auto, got " + describe(value));
        return;
      }
      ports.add(new PortSpec(name, java.util.OptionalInt.of((int) number)));
    });
    return ports;
  }

  private ResourcesSpec resources(NodeTuple tuple, String path) {
    if (tuple == null || isNull(tuple.getValueNode())) {
      return ResourcesSpec.NONE;
    }
    Map<String, NodeTuple> keys = mapping(tuple.getValueNode(), path, RESOURCE_KEYS);
    if (keys == null) {
      return ResourcesSpec.NONE;
    }
    OptionalLong memory = OptionalLong.empty();
    NodeTuple memoryTuple = keys.get("memory");
    if (memoryTuple != null) {
      Node node = memoryTuple.getValueNode();
      long bytes = node instanceof ScalarNode s && !isNull(node)
          ? ResourcesSpec.parseBytes(s.getValue()) : -1;
      if (bytes < 0) {
        problem(node, path + ".memory", "must be a size such as \"256Mi\", \"1Gi\", \"500M\""
            + " or a number of bytes, got " + describe(node));
      } else if (bytes < ResourcesSpec.MIN_MEMORY_BYTES) {
        problem(node, path + ".memory", "must be at least 4Mi, got " + describe(node));
      } else {
        memory = OptionalLong.of(bytes);
      }
    }
    OptionalDouble cpus = OptionalDouble.empty();
    NodeTuple cpuTuple = keys.get("cpu");
    if (cpuTuple != null) {
      Node node = cpuTuple.getValueNode();
      double value = Double.NaN;
      if (node instanceof ScalarNode s && (Tag.INT.equals(node.getTag())
          || Tag.FLOAT.equals(node.getTag()))) {
        try {
          value = Double.parseDouble(s.getValue().replace("_", ""));
        } catch (NumberFormatException e) {
          value = Double.NaN;
        }
      }
      if (Double.isNaN(value) || value < ResourcesSpec.MIN_CPUS
          || value > ResourcesSpec.MAX_CPUS) {
        problem(node, path + ".cpu", "must be a number of cores between 0.01 and 1024 (0.5 ="
            + " half a core), got " + describe(node));
      } else {
        cpus = OptionalDouble.of(value);
      }
    }
    OptionalLong pids = OptionalLong.empty();
    if (keys.containsKey("pids")) {
      int before = problems.size();
      int value = count(keys.get("pids"), path + ".pids", 4_194_304);
      if (problems.size() == before) {
        pids = OptionalLong.of(value);
      }
    }
    return new ResourcesSpec(memory, cpus, pids);
  }

  private Optional<String> user(NodeTuple tuple, String path) {
    if (tuple == null) {
      return Optional.empty();
    }
    String name = text(tuple.getValueNode(), path);
    if (name == null) {
      return Optional.empty();
    }
    if (!USER_NAME.matcher(name).matches()) {
      problem(tuple.getValueNode(), path, "must be an account name (lower-case letters, digits,"
          + " _ . -, at most 32 characters), got \"" + name + "\"");
      return Optional.empty();
    }
    return Optional.of(name);
  }

  private RunSpec run(Node node, String path) {
    Map<String, NodeTuple> keys = mapping(node, path, RUN_KEYS);
    if (keys == null) {
      return null;
    }
    int before = problems.size();
    List<String> preflight = commands(keys.get("preflight"), path + ".preflight");
    List<String> start = commands(keys.get("start"), path + ".start");
    List<String> postflight = commands(keys.get("postflight"), path + ".postflight");
    if (problems.size() == before && start.isEmpty()) {
      Node where = keys.containsKey("start") ? keys.get("start").getValueNode() : node;
      problem(where, path + ".start", "needs at least one command");
    }
    return problems.size() == before ? new RunSpec(preflight, start, postflight) : null;
  }

  private Optional<HealthCheckSpec> healthcheck(Node node, String path) {
    Map<String, NodeTuple> keys = mapping(node, path, HEALTH_KEYS);
    if (keys == null) {
      return Optional.empty();
    }
    int before = problems.size();
    String cmd = null;
    NodeTuple cmdTuple = keys.get("cmd");
    if (cmdTuple == null) {
      problem(node, path + ".cmd", "is required in a healthcheck");
    } else {
      cmd = text(cmdTuple.getValueNode(), path + ".cmd");
    }
    Optional<String> test = Optional.empty();
    if (keys.containsKey("test")) {
      test = Optional.ofNullable(text(keys.get("test").getValueNode(), path + ".test"));
    }
    Duration interval = duration(keys.get("interval"), path + ".interval",
        HealthCheckSpec.DEFAULT_INTERVAL);
    Duration timeout = duration(keys.get("timeout"), path + ".timeout",
        HealthCheckSpec.DEFAULT_TIMEOUT);
    Duration startPeriod = duration(keys.get("start_period"), path + ".start_period",
        HealthCheckSpec.DEFAULT_START_PERIOD);
    if (problems.size() != before) {
      return Optional.empty();
    }
    return Optional.of(new HealthCheckSpec(cmd, test, interval, timeout, startPeriod));
  }

  private Map<String, String> env(NodeTuple tuple, String path) {
    Map<String, String> env = new LinkedHashMap<>();
    if (tuple == null || isNull(tuple.getValueNode())) {
      return env;
    }
    Map<String, NodeTuple> keys = mapping(tuple.getValueNode(), path, null);
    if (keys == null) {
      return env;
    }
    keys.forEach((key, entry) -> {
      String entryPath = path + "." + key;
      if (!ENV_NAME.matcher(key).matches()) {
        problem(entry.getKeyNode(), entryPath,
            "environment variable names are letters, digits and underscores, not starting"
                + " with a digit");
      } else if (key.startsWith("INFRAVEIL_")) {
        problem(entry.getKeyNode(), entryPath, "the INFRAVEIL_ prefix is reserved");
      }
      Node value = entry.getValueNode();
      if (!(value instanceof ScalarNode scalar)) {
        problem(value, entryPath, "must be a plain value, got " + describe(value));
      } else {
        env.put(key, isNull(value) ? "" : scalar.getValue());
      }
    });
    return env;
  }

  private List<SecretRef> secrets(NodeTuple tuple, String path, Set<String> plainEnv) {
    List<SecretRef> secrets = new ArrayList<>();
    if (tuple == null || isNull(tuple.getValueNode())) {
      return secrets;
    }
    Node node = tuple.getValueNode();
    if (!(node instanceof SequenceNode sequence)) {
      problem(node, path, "must be a list of {name, env} or {name, file} entries, got "
          + describe(node));
      return secrets;
    }
    Map<String, Integer> targets = new LinkedHashMap<>();
    List<Node> items = sequence.getValue();
    for (int i = 0; i < items.size(); i++) {
      String itemPath = path + "[" + i + "]";
      Node item = items.get(i);
      Map<String, NodeTuple> keys = mapping(item, itemPath, SECRET_KEYS);
      if (keys == null) {
        continue;
      }
      String name = null;
      if (!keys.containsKey("name")) {
        problem(item, itemPath + ".name", "is required: the name given to"
            + " `infraveil ctl secrets set`");
      } else {
        name = text(keys.get("name").getValueNode(), itemPath + ".name");
        if (name != null && !SecretRef.NAME.matcher(name).matches()) {
          problem(keys.get("name").getValueNode(), itemPath + ".name", "secret names are"
              + " lower-case letters, digits, '_' and '-', starting with a letter or digit, at"
              + " most 63 characters, got \"" + name + "\"");
          name = null;
        }
      }
      boolean hasEnv = keys.containsKey("env");
      boolean hasFile = keys.containsKey("file");
      if (hasEnv == hasFile) {
        problem(item, itemPath, "needs exactly one of env (an environment variable name) or"
            + " file (a file name in INFRAVEIL_SECRETS_DIR)");
        continue;
      }
      NodeTuple targetTuple = hasEnv ? keys.get("env") : keys.get("file");
      String targetPath = itemPath + (hasEnv ? ".env" : ".file");
      String target = text(targetTuple.getValueNode(), targetPath);
      if (target == null) {
        continue;
      }
      boolean ok = true;
      if (hasEnv) {
        if (!ENV_NAME.matcher(target).matches()) {
          problem(targetTuple.getValueNode(), targetPath, "environment variable names are"
              + " letters, digits and underscores, not starting with a digit");
          ok = false;
        } else if (target.startsWith("INFRAVEIL_")) {
          problem(targetTuple.getValueNode(), targetPath, "the INFRAVEIL_ prefix is reserved");
          ok = false;
        } else if (plainEnv.contains(target)) {
          problem(targetTuple.getValueNode(), targetPath, target + " is also set in env:"
              + " a variable comes from one place");
          ok = false;
        }
      } else if (!SecretRef.FILE_NAME.matcher(target).matches() || target.equals("..")) {
        problem(targetTuple.getValueNode(), targetPath, "must be a plain file name (letters,"
            + " digits, '.', '_', '-'; no '/'; at most 128 characters), got \"" + target + "\"");
        ok = false;
      }
      String key = (hasEnv ? "env " : "file ") + target;
      if (ok && targets.containsKey(key)) {
        problem(targetTuple.getValueNode(), targetPath, key + " is already used by "
            + path + "[" + targets.get(key) + "]");
        ok = false;
      }
      if (ok && name != null) {
        targets.put(key, i);
        secrets.add(new SecretRef(name, hasEnv ? SecretRef.Exposure.ENV
            : SecretRef.Exposure.FILE, target));
      }
    }
    return secrets;
  }

  private String signal(NodeTuple tuple, String path) {
    if (tuple == null) {
      return ServiceSpec.DEFAULT_STOP_SIGNAL;
    }
    String text = text(tuple.getValueNode(), path);
    if (text == null) {
      return ServiceSpec.DEFAULT_STOP_SIGNAL;
    }
    String signal = text.trim().toUpperCase(java.util.Locale.ROOT);
    if (signal.startsWith("SIG")) {
      signal = signal.substring(3);
    }
    if (!SIGNALS.contains(signal)) {
      problem(tuple.getValueNode(), path, "must be one of " + SIGNALS.stream().sorted().toList()
          + ", got \"" + text + "\"");
      return ServiceSpec.DEFAULT_STOP_SIGNAL;
    }
    return signal;
  }

  private int count(NodeTuple tuple, String path, int max) {
    if (tuple == null) {
      return 1;
    }
    Node node = tuple.getValueNode();
    if (!(node instanceof ScalarNode scalar) || !Tag.INT.equals(node.getTag())) {
      problem(node, path, "must be a positive integer, got " + describe(node));
      return 1;
    }
    long value;
    try {
      value = Long.parseLong(scalar.getValue().replace("_", ""));
    } catch (NumberFormatException e) {
      problem(node, path, "must be a positive integer, got " + describe(node));
      return 1;
    }
    if (value < 1 || value > max) {
      problem(node, path, "must be between 1 and " + max + ", got " + value);
      return 1;
    }
    return (int) value;
  }

  private Duration duration(NodeTuple tuple, String path, Duration fallback) {
    if (tuple == null) {
      return fallback;
    }
    Node node = tuple.getValueNode();
    String bad = "must be a duration (" + Durations.ACCEPTED_FORMS + "), got ";
    if (!(node instanceof ScalarNode scalar) || isNull(node)) {
      problem(node, path, bad + describe(node));
      return fallback;
    }
    Optional<Duration> parsed = Durations.parse(scalar.getValue());
    if (parsed.isEmpty()) {
      problem(node, path, bad + describe(node));
      return fallback;
    }
    if (parsed.get().isZero()) {
      problem(node, path, "must be greater than zero, got " + describe(node));
      return fallback;
    }
    return parsed.get();
  }

  private List<String> commands(NodeTuple tuple, String path) {
    List<String> commands = new ArrayList<>();
    if (tuple == null || isNull(tuple.getValueNode())) {
      return commands;
    }
    Node node = tuple.getValueNode();
    if (!(node instanceof SequenceNode sequence)) {
      problem(node, path, "must be a list of shell commands, got " + describe(node));
      return commands;
    }
    List<Node> items = sequence.getValue();
    for (int i = 0; i < items.size(); i++) {
      String command = text(items.get(i), path + "[" + i + "]");
      if (command != null) {
        commands.add(command);
      }
    }
    return commands;
  }

  /** A non-blank scalar's text, or null after recording a problem. */
  private String text(Node node, String path) {
    if (!(node instanceof ScalarNode scalar) || isNull(node)) {
      problem(node, path, "must be a non-empty string, got " + describe(node));
      return null;
    }
    if (scalar.getValue().isBlank()) {
      problem(node, path, "must be a non-empty string, got \"\"");
      return null;
    }
    return scalar.getValue();
  }

  /**
   * The entries of a mapping node by key, in file order, after reporting a non-mapping, keys
   * that are not strings, duplicate keys and (when {@code allowed} is not null) unknown keys.
   */
  private Map<String, NodeTuple> mapping(Node node, String path, List<String> allowed) {
    if (!(node instanceof MappingNode mapping)) {
      problem(node, path.isEmpty() ? "(top level)" : path, "must be a mapping, got "
          + describe(node));
      return null;
    }
    Map<String, NodeTuple> keys = new LinkedHashMap<>();
    for (NodeTuple tuple : mapping.getValue()) {
      Node keyNode = tuple.getKeyNode();
      String child;
      if (!(keyNode instanceof ScalarNode keyScalar) || isNull(keyNode)) {
        problem(keyNode, path, "keys must be plain names, got " + describe(keyNode));
        continue;
      }
      String key = keyScalar.getValue();
      child = path.isEmpty() ? key : path + "." + key;
      if (allowed != null && !allowed.contains(key)) {
        problem(keyNode, child, "unknown key; allowed keys: " + String.join(", ", allowed));
        continue;
      }
      if (keys.containsKey(key)) {
        problem(keyNode, child, "duplicate key; first defined on line "
            + line(keys.get(key).getKeyNode()));
        continue;
      }
      keys.put(key, tuple);
    }
    return keys;
  }

  private static boolean isNull(Node node) {
    return Tag.NULL.equals(node.getTag());
  }

  private static String describe(Node node) {
    if (node instanceof MappingNode) {
      return "a mapping";
    }
    if (node instanceof SequenceNode) {
      return "a list";
    }
    if (isNull(node)) {
      return "nothing";
    }
    return "\"" + ((ScalarNode) node).getValue() + "\"";
  }

  private static int line(Node node) {
    return node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
  }

  private void problem(Node node, String path, String message) {
    problems.add(new ConfigProblem(file, line(node), path, message));
  }
}
