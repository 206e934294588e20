package io.infraveil.launcher;

import io.grpc.StatusRuntimeException;
import io.infraveil.host.grpc.ControlPlaneEndpoints;
import io.infraveil.host.grpc.HostIdentityFiles;
import io.infraveil.host.options.CommandConfig;
import io.infraveil.host.options.ControlPlaneEndpointsConverter;
import io.infraveil.logging.LogFormat;
import io.infraveil.logging.Logging;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code infraveil launcher enroll}: enrolls this host with a join token, writes its identity
 * into the data dir and exits, so that the operator (or an install script) enrolls once and
 * the launcher's unit only runs. On a host already enrolled it changes nothing and says so.
 * Reads the same {@code --config} file (launcher.yaml) as the launcher; flags win.
 *
 * <p>Exit codes: {@value #ENROLLED} enrolled now, or already enrolled under the same name
 * (nothing changed, safe to run again from an install or provisioning script); {@value #FAILED}
 * enrolled under another name (nothing changed), or enrollment failed (refused, unreachable,
 * an unreadable CA file); 2 usage or config file error.
 */
@Command(name = "enroll", mixinStandardHelpOptions = true,
    description = "Enroll this host with a join token, write its identity into the data dir,"
        + " and exit. Changes nothing on a host already enrolled.")
final class EnrollCommand implements Callable<Integer> {

  static final int ENROLLED = 0;
  static final int FAILED = 1;

  @Option(names = "--config", paramLabel = "FILE",
      description = "launcher.yaml; its data-dir, control-plane, ca, join-token, name and"
          + " labels are used here. Options given on the command line win.")
  Path config;

  @Option(names = {"--token", "--join-token"}, paramLabel = "TOKEN",
      description = "One-time join token (`infraveil ctl tokens create NAME`).")
  String token;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "Read the join token from this file instead (kept out of the process"
          + " list; surrounding whitespace ignored).")
  Path tokenFile;

  @Option(names = "--name", paramLabel = "NAME", description = "This host's name.")
  String name;

  @Option(names = "--control-plane", paramLabel = "HOST:PORT[,HOST:PORT...]",
      converter = ControlPlaneEndpointsConverter.class,
      description = "The control plane, or its replicas as a comma-separated list (tried in"
          + " order; the whole list is kept for the launcher).")
  ControlPlaneEndpoints controlPlane;

  @Option(names = "--ca", paramLabel = "FILE",
      description = "CA certificate of the installation, trusted for this first connection.")
  Path caFile;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = LauncherMain.DEFAULT_DATA_DIR,
      description = "Host data dir; the identity goes to DIR/identity (default:"
          + " ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--labels", paramLabel = "K=V", split = ",",
      description = "Labels this host offers for placement (k=v,k=v; merged with the join"
          + " token's).")
  Map<String, String> labels;

  @Option(names = "--log-format", defaultValue = "logfmt", paramLabel = "logfmt|json",
      description = "Format of the log lines on stdout (default: ${DEFAULT-VALUE}).")
  String logFormat;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (config == null && spec.parent().userObject() instanceof LauncherMain launcher) {
      config = launcher.config; // `launcher --config FILE enroll ...` reads the same file
    }
    LauncherMain.applyConfig(config, spec.parent(), spec);
    PrintWriter out = spec.commandLine().getOut();
    LogFormat format = LogFormat.named(logFormat);
    Logging.configure("launcher", Map.of(), format, new Logging.Console(false));
    LauncherLog log = new LauncherLog(System.out, Clock.systemUTC(), (action, fields) -> { }, format);
    Path data = dataDir.toAbsolutePath();
    HostIdentityFiles identity = HostIdentityFiles.inDataDir(data);
    Enroller enroller = new Enroller(identity, log);
    if (enroller.isEnrolled()) {
      HostIdentityFiles.HostInfo host = identity.readHostInfo().orElseThrow();
      boolean same = name == null || name.equals(host.name());
      log.event("enroll_skipped", "reason", "ALREADY_ENROLLED", "host", host.name(),
          "identity", identity.dir(), "control_plane", host.controlPlane());
      out.println("this host is already enrolled as " + host.name() + " (identity in "
          + identity.dir() + ", control plane " + host.controlPlane() + "); nothing changed"
          + (same ? "" : ". To enroll it as " + name + " instead, stop the launcher, move "
              + identity.dir() + " away and run enroll again"));
      out.flush();
      return same ? ENROLLED : FAILED;
    }
    if (tokenFile != null) {
      if (token != null) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "give the join token once: --token or --token-file, not both");
      }
      try {
        token = Files.readString(tokenFile).strip();
      } catch (IOException e) {
        spec.commandLine().getErr().println("error: cannot read the join token from "
            + tokenFile + ": " + e.getMessage());
        return FAILED;
      }
    }
    CommandConfig.require(spec, "--token", "--name", "--control-plane", "--ca");
    HostIdentityFiles.HostInfo host;
    try {
      host = enroller.enroll(controlPlane.toString(), caFile, token, name,
          labels == null ? Map.of() : labels);
    } catch (StatusRuntimeException | IOException e) {
      String why = e instanceof StatusRuntimeException refused
          ? refused.getStatus().getCode() + ": " + refused.getStatus().getDescription()
          : e.getMessage();
      log.event("enroll_failed", "name", name, "control_plane", controlPlane, "error", why);
      spec.commandLine().getErr().println("error: enrolling " + name + " at " + controlPlane
          + " failed: " + why + "; this host is not enrolled, run enroll again once fixed");
      return FAILED;
    }
    out.println("enrolled as " + host.name() + " (identity in " + identity.dir()
        + ", control plane " + host.controlPlane() + "); start the launcher with the same"
        + " --data-dir");
    out.flush();
    return ENROLLED;
  }
}
