package io.infraveil.cli;

import io.infraveil.controlplane.ControlPlane;
import io.infraveil.logging.LogFormat;
import io.infraveil.logging.Logging;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code infraveil controlplane}: runs the control plane in the foreground until SIGTERM or
 * SIGINT, which shut it down gracefully (gRPC drained, database closed).
 */
@Command(name = "controlplane", mixinStandardHelpOptions = true,
    description = "Run the control plane (mTLS gRPC; H2 in the data dir).")
final class ControlPlaneCommand implements Callable<Integer> {

  static final String HTTP_PORT_PROPERTY = "infraveil.http-port";
  static final String GRPC_PORT_PROPERTY = "grpc.server.port";
  static final String GRPC_HOST_PROPERTY = "grpc.server.host";

  @Option(names = "--data-dir", required = true, paramLabel = "DIR",
      description = "Database and master key.")
  Path dataDir;

  @Option(names = "--certs", required = true, paramLabel = "DIR",
      description = "PKI directory made by `certs init` (ca.crt, ca.key; the server "
          + "certificate controlplane.crt is issued there on first start when missing).")
  Path certsDir;

  @Option(names = "--grpc-port", paramLabel = "P", defaultValue = "7443",
      description = "gRPC (mTLS) port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(names = "--http-port", paramLabel = "P", defaultValue = "7080",
      description = "Status page and operations API port (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--config", paramLabel = "FILE",
      description = "Extra properties: YAML (nested keys become dotted) or .properties.")
  Path config;

  @Option(names = "--log-format", defaultValue = "logfmt", paramLabel = "logfmt|json",
      description = "Format of the log lines on stdout (default: ${DEFAULT-VALUE}).")
  String logFormat;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Logging.configure("controlplane", Map.of(), LogFormat.named(logFormat),
        new Logging.Console(false));
    Map<String, Object> extra = properties();
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

  /** The config file's properties, with flags given on the command line taking precedence. */
  Map<String, Object> properties() throws Exception {
    Map<String, Object> extra = new LinkedHashMap<>();
    if (config != null) {
      extra.putAll(ConfigFile.read(config));
    }
    var parsed = spec.commandLine().getParseResult();
    if (parsed.hasMatchedOption("--grpc-port")) {
      extra.remove(GRPC_PORT_PROPERTY);
    }
    if (parsed.hasMatchedOption("--http-port") || !extra.containsKey(HTTP_PORT_PROPERTY)) {
      extra.put(HTTP_PORT_PROPERTY, httpPort);
    }
    return extra;
  }
}
