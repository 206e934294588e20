package io.infraveil.cli;

import io.infraveil.appconfig.Durations;
import io.infraveil.controlplane.ControlPlane;
import io.infraveil.controlplane.ControlPlaneProperties;
import io.infraveil.host.options.CommandConfig;
import io.infraveil.host.options.ConfigFile;
import io.infraveil.logging.LogFormat;
import io.infraveil.logging.Logging;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code infraveil controlplane}: runs the control plane in the foreground until SIGTERM or
 * SIGINT, which shut it down gracefully (gRPC drained, database closed).
 */
@Command(name = "controlplane", mixinStandardHelpOptions = true,
    description = "Run the control plane (mTLS gRPC; H2 in the data dir, or PostgreSQL).")
final class ControlPlaneCommand implements Callable<Integer> {

  static final String HTTP_PORT_PROPERTY = "infraveil.http-port";
  static final String GRPC_HOST_PROPERTY = "grpc.server.host";
  static final String DATABASE_PROPERTY = "infraveil.datasource.url";
  private static final Pattern PASSWORD_IN_URL = Pattern.compile("(?i)[?&;]password=");

  /** Properties set by a flag rather than by a key of their own. */
  static final Map<String, String> FLAG_PROPERTIES = Map.of(
      "infraveil.data-dir", "--data-dir",
      "infraveil.certs-dir", "--certs",
      HTTP_PORT_PROPERTY, "--http-port",
      DATABASE_PROPERTY, "--database");

  /** A key of controlplane.yaml that is not a flag: the Micronaut property it sets. */
  static final String GRPC_HOST_KEY = "grpc-host";

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "Master key, and the H2 database when --database is not given.")
  Path dataDir;

  @Option(names = "--certs", paramLabel = "DIR",
      description = "PKI directory made by `certs init` (ca.crt, ca.key; the server "
          + "certificate controlplane.crt is issued there on first start when missing).")
  Path certsDir;

  @Option(names = "--database", paramLabel = "URL",
      description = "JDBC URL of a PostgreSQL database that replicas share"
          + " (jdbc:postgresql://HOST:PORT/DATABASE); default: H2 in the data dir. The user is"
          + " datasource.username in the --config file, the password comes from"
          + " datasource.password-file or INFRAVEIL_DATABASE_PASSWORD, never from a flag.")
  String database;

  @Option(names = "--grpc-port", paramLabel = "P", defaultValue = "7443",
      description = "gRPC (mTLS) port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(names = "--http-port", paramLabel = "P", defaultValue = "7080",
      description = "Status page and operations API port (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--config", paramLabel = "FILE",
      description = "controlplane.yaml: a key for every option here and for every infraveil.*"
          + " property (retention: 30d); options given on the command line win.")
  Path config;

  @Option(names = "--log-format", defaultValue = "logfmt", paramLabel = "logfmt|json",
      description = "Format of the log lines on stdout (default: ${DEFAULT-VALUE}).")
  String logFormat;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> extra = properties();
    Logging.configure("controlplane", Map.of(), LogFormat.named(logFormat),
        new Logging.Console(false));
    ControlPlane controlPlane = ControlPlane.start(dataDir, certsDir, grpcPort, extra);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        controlPlane.close();
      } finally {
        stopped.countDown();
      }
    }, "infraveil-controlplane-shutdown"));
    Object host = extra.getOrDefault(GRPC_HOST_PROPERTY, "localhost");
    spec.commandLine().getOut().println("controlplane ready grpc=" + host + ":"
        + controlPlane.grpcPort());
    spec.commandLine().getOut().flush();
    stopped.await();
    return 0;
  }

  /**
   * Reads {@code --config} into the options the command line did not give and returns the
   * Micronaut properties it sets (durations in ISO-8601, which Micronaut reads).
   */
  Map<String, Object> properties() {
    Map<String, Object> extra = new LinkedHashMap<>();
    if (config != null) {
      Map<String, Object> values = CommandConfig.apply(ConfigFile.read(config), spec, spec,
          propertyKeys());
      values.forEach((key, value) -> extra.put(property(key),
          value instanceof Duration duration ? Durations.iso(duration) : value));
    }
    CommandConfig.require(spec, "--data-dir", "--certs");
    extra.put(HTTP_PORT_PROPERTY, httpPort);
    if (database != null) {
      if (PASSWORD_IN_URL.matcher(database).find()
          && spec.commandLine().getParseResult().hasMatchedOption("--database")) {
        throw new ParameterException(spec.commandLine(), "--database: the URL holds a password,"
            + " which every user of this machine could read in the process list; put it in"
            + " the file of datasource.password-file, or in INFRAVEIL_DATABASE_PASSWORD");
      }
      extra.put(DATABASE_PROPERTY, database);
    }
    return extra;
  }

  /** The keys of controlplane.yaml that are properties rather than flags, with their types. */
  static Map<String, Class<?>> propertyKeys() {
    Map<String, Class<?>> keys = new TreeMap<>();
    for (ControlPlaneProperties.Property property : ControlPlaneProperties.all()) {
      if (!FLAG_PROPERTIES.containsKey(property.name())) {
        keys.put(property.name().substring("infraveil.".length()), property.type());
      }
    }
    keys.put(GRPC_HOST_KEY, String.class);
    return keys;
  }

  private static String property(String key) {
    return key.equals(GRPC_HOST_KEY) ? GRPC_HOST_PROPERTY : "infraveil." + key;
  }
}
