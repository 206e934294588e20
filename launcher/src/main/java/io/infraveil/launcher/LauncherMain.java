package io.infraveil.launcher;

import io.infraveil.host.grpc.ControlPlaneChannel;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.host.grpc.ControlPlaneEndpoints;
import io.infraveil.host.grpc.HostIdentityFiles;
import io.infraveil.host.jvm.AgentClassArchive;
import io.infraveil.host.options.CommandConfig;
import io.infraveil.host.options.ConfigFile;
import io.infraveil.host.options.ConfigFileException;
import io.infraveil.host.options.ControlPlaneEndpointsConverter;
import io.infraveil.host.options.DurationConverter;
import io.infraveil.host.payload.CacheLayout;
import io.infraveil.host.payload.PayloadCache;
import io.infraveil.host.payload.PublisherPins;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.host.grpc.ReconnectLoop;
import io.infraveil.logging.LogFormat;
import io.infraveil.logging.Logging;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.random.RandomGenerator;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code infraveil launcher}: the host daemon. SIGTERM stops the launcher, not the agents. */
@Command(name = "launcher", mixinStandardHelpOptions = true,
    subcommands = EnrollCommand.class,
    description = "Keeps this host's agents in line with the control plane's desired state.")
public final class LauncherMain implements Callable<Integer> {

  static final String VERSION = "0.1.0";

  /** Where an installed host keeps its data unless told otherwise. */
  static final String DEFAULT_DATA_DIR = "/var/lib/infraveil/launcher";

  @Option(names = "--config", paramLabel = "FILE",
      description = "launcher.yaml: a key for every option here (data-dir: ..., crash-window:"
          + " 5m); options given on the command line win.")
  Path config;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = DEFAULT_DATA_DIR,
      description = "Host data dir (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--control-plane", paramLabel = "HOST:PORT[,HOST:PORT...]",
      converter = ControlPlaneEndpointsConverter.class,
      description = "The control plane, or its replicas as a comma-separated list; a failed"
          + " connection moves to another (default: what this host enrolled with).")
  ControlPlaneEndpoints controlPlane;

  @Option(names = "--ca", paramLabel = "FILE",
      description = "CA certificate to trust when enrolling (needed only to enroll).")
  Path caFile;

  @Option(names = "--join-token", paramLabel = "TOKEN",
      description = "One-time join token: enroll on first start (or use `launcher enroll`).")
  String joinToken;

  @Option(names = "--name", paramLabel = "NAME",
      description = "This host's name (to enroll on first start).")
  String name;

  @Option(names = "--labels", paramLabel = "K=V", split = ",",
      description = "Labels this host offers for placement when it enrolls on first start"
          + " (k=v,k=v; merged with the join token's).")
  Map<String, String> labels;

  @Option(names = "--publisher-key", paramLabel = "FILE",
      description = "Pin this publisher public key (NAME.pub from `infraveil keys"
          + " create-publisher`; repeatable) in DATA/identity/publishers.pem before anything is"
          + " fetched: from then on only versions it signed run here. Keys are only added.")
  List<Path> publisherKeys;

  @Option(names = "--report-interval", defaultValue = "10s", converter = DurationConverter.class,
      description = "Full host report interval (default: ${DEFAULT-VALUE}).")
  Duration reportInterval;

  @Option(names = "--reconcile-interval", defaultValue = "5s", converter = DurationConverter.class,
      description = "Reconcile pass interval, besides passes on every change (default:"
          + " ${DEFAULT-VALUE}).")
  Duration reconcileInterval;

  @Option(names = "--stop-grace", defaultValue = "10s", converter = DurationConverter.class,
      description = "Least time an agent gets to stop its services before the launcher kills it"
          + " and them (default: ${DEFAULT-VALUE}).")
  Duration stopGrace;

  @Option(names = "--stop-margin", defaultValue = "5s", converter = DurationConverter.class,
      description = "Added to the longest stop_timeout of an agent's services to give its stop"
          + " time (default: ${DEFAULT-VALUE}); the larger of this and --stop-grace applies.")
  Duration stopMargin;

  @Option(names = "--agent-command", split = " ",
      description = "Command that runs an agent (default: this JVM with io.infraveil.agent.main.AgentMain).")
  List<String> agentCommand;

  @Option(names = "--crash-window", defaultValue = "5m", converter = DurationConverter.class,
      description = "Rolling window in which agent crashes count (default: ${DEFAULT-VALUE}).")
  Duration crashWindow;

  @Option(names = "--crash-limit", defaultValue = "6",
      description = "Failed respawns within the window before an agent is suspended (default 6:"
          + " the 7th crash suspends).")
  int crashLimit;

  @Option(names = "--suspend-cooldown", defaultValue = "5m", converter = DurationConverter.class,
      description = "First suspension's cooldown; doubles per consecutive suspension (default:"
          + " ${DEFAULT-VALUE}).")
  Duration suspendCooldown;

  @Option(names = "--suspend-cooldown-max", defaultValue = "1h",
      converter = DurationConverter.class, description = "Cooldown cap (default: ${DEFAULT-VALUE}).")
  Duration suspendCooldownMax;

  @Option(names = "--agent-arg",
      description = "Extra argument for every agent, before --data-dir (repeatable), e.g."
          + " --agent-arg=--stabilization=5s.")
  List<String> agentArgs;

  @Option(names = "--reconnect-max", defaultValue = "30s", converter = DurationConverter.class,
      description = "Cap of the Sync reconnect backoff (default ${DEFAULT-VALUE}; it starts at 1 s). A refused"
          + " identity (revoked, unknown) backs off from 30 s to 5 min instead.")
  Duration reconnectMax;

  @Option(names = "--metrics-port", defaultValue = "7081",
      description = "Port of GET /metrics on 127.0.0.1, plain HTTP: this launcher's metrics and"
          + " every agent's (default 7081; 0 turns it off).")
  int metricsPort;

  @Option(names = "--metrics-bind", paramLabel = "HOST:PORT",
      description = "Address and port of GET /metrics instead of 127.0.0.1:--metrics-port, e.g. 0.0.0.0:7081"
          + " for a central Prometheus ([::]:7081 for IPv6, port 0 turns it off). It asks for no credentials:"
          + " bind an address only the scraper's network reaches.")
  String metricsBind;

  @Option(names = "--log-format", defaultValue = "logfmt", paramLabel = "logfmt|json",
      description = "Log format of this launcher (stdout) and of the agents it starts (their "
          + "agent.log) (default: ${DEFAULT-VALUE}).")
  String logFormat;

  @Option(names = "--stop-agents-on-exit", description = "Development: stop agents when the launcher exits.")
  boolean stopAgentsOnExit;

  @Spec CommandSpec spec;

  List<String> agentCommand() {
    List<String> command = new java.util.ArrayList<>(agentCommand == null
        ? Reconciler.Settings.defaultAgentCommand() : agentCommand);
    if (agentArgs != null) {
      command.addAll(agentArgs);
    }
    if (LogFormat.named(logFormat) != LogFormat.LOGFMT) {
      command.add("--log-format=" + LogFormat.named(logFormat).name().toLowerCase(Locale.ROOT));
    }
    return command;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The launcher's command line, {@code enroll} included; a bad config file exits 2. */
  public static CommandLine commandLine() {
    return new CommandLine(new LauncherMain())
        .setExecutionExceptionHandler((e, line, parsed) -> {
          if (e instanceof ConfigFileException bad) {
            line.getErr().println("error: " + bad.getMessage());
            return 2;
          }
          throw e;
        });
  }

  /** Fills the options the command line did not give from {@code --config}, if any. */
  static void applyConfig(Path config, CommandSpec launcher, CommandSpec target) {
    if (config != null) {
      CommandConfig.apply(ConfigFile.read(config), launcher, target, Map.of());
    }
  }

  @Override
  public Integer call() throws Exception {
    applyConfig(config, spec, spec);
    Clock clock = Clock.systemUTC();
    LauncherMetrics metrics = new LauncherMetrics(dataDir.toAbsolutePath(), clock);
    LogFormat format = LogFormat.named(logFormat);
    Logging.configure("launcher", Map.of(), format, new Logging.Console(false));
    LauncherLog log = new LauncherLog(System.out, clock, metrics::observe, format);
    HostIdentityFiles identity = HostIdentityFiles.inDataDir(dataDir.toAbsolutePath());
    StaleTempFiles.removeAtStart(dataDir.toAbsolutePath(), identity, log);
    InetSocketAddress metricsAddress;
    try {
      metricsAddress = metricsBind == null ? new InetSocketAddress(InetAddress.getLoopbackAddress(), metricsPort)
          : MetricsServer.parseBind(metricsBind);
    } catch (IllegalArgumentException e) {
      log.event("metrics_bind_refused", "error", e.getMessage());
      return 2;
    }
    if (publisherKeys != null) {
      // Before enrolling: the first desired state is already held to the pinned keys.
      try {
        PublisherPins.Result pins = PublisherPins.pin(new CacheLayout(dataDir.toAbsolutePath()),
            publisherKeys);
        log.event("publisher_keys_pinned", "added", String.join(",", pins.added()),
            "already_pinned", String.join(",", pins.alreadyPinned()));
      } catch (java.io.IOException e) {
        log.event("publisher_key_refused", "error", e.getMessage());
        return 2;
      }
    }
    Enroller enroller = new Enroller(identity, log);
    if (!enroller.isEnrolled()) {
      if (joinToken == null || name == null) {
        log.event("not_enrolled", "data_dir", dataDir, "hint", "run `infraveil launcher enroll"
            + " --token T --name N --control-plane HOST:PORT --ca FILE` first (or pass"
            + " --join-token and --name)");
        return 2;
      }
      CommandConfig.require(spec, "--control-plane", "--ca");
      enroller.enroll(controlPlane.toString(), caFile, joinToken, name, labels == null ? Map.of() : labels);
    } else {
      log.event("enrollment_skipped", "reason", "IDENTITY_PRESENT");
    }
    HostIdentityFiles.HostInfo host = identity.readHostInfo().orElseThrow();
    if (controlPlane == null) {
      controlPlane = ControlPlaneEndpoints.parse(host.controlPlane());
    }
    log.event("identity_checked", "rotation", identity.recoverRotation());

    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "launcher");
      thread.setDaemon(true);
      return thread;
    });
    ControlPlaneChannel channel = ControlPlaneChannels.mutualTls(controlPlane, identity,
        ControlPlaneChannels.Settings.DEFAULTS, RandomGenerator.getDefault());
    channel.addSwitchListener(new ControlPlaneSwitchLog(log));
    CachePrefetcher prefetcher = new CachePrefetcher(PayloadCache.forHost(
        new CacheLayout(dataDir.toAbsolutePath()), channel, HostKeys.fromSecret(identity.readSecret())),
        clock, log);
    List<String> agents = agentCommand();
    Optional<AgentClassArchive> classArchive = agentCommand == null
        ? AgentClassArchive.of(dataDir.toAbsolutePath().resolve(CLASS_ARCHIVE_DIR), agents,
            AGENT_MAIN_CLASS)
        : Optional.empty();
    Reconciler reconciler = new Reconciler(
        new Reconciler.Settings(dataDir.toAbsolutePath(), controlPlane.toString(),
            agents,
            stopGrace, stopMargin, reconcileInterval)
            .withAgentCommandAtSpawn(command -> classArchive.map(a -> a.withArchive(command))
                .orElse(command)),
        new FileStateStore(dataDir.toAbsolutePath()),
        new CrashBudget(crashWindow, crashLimit, suspendCooldown, suspendCooldownMax),
        prefetcher, clock, scheduler, log);
    SyncClient sync = new SyncClient(new SyncClient.Settings(host.name(), VERSION, reportInterval),
        channel, reconciler,
        ReconnectLoop.Settings.of(Duration.ofSeconds(1), reconnectMax),
        RandomGenerator.getDefault(), clock, scheduler, log);
    sync.addEventSource(prefetcher::drainEvents);
    metrics.watch(reconciler::statuses, reconciler::heldRevision);
    metrics.watchControlPlane(channel);
    MetricsServer metricsServer = MetricsServer.startUnlessOff(metricsAddress, metrics, log);

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.event("launcher_stop", "stop_agents", stopAgentsOnExit);
      sync.close();
      reconciler.close(stopAgentsOnExit);
      channel.shutdown();
      if (metricsServer != null) {
        metricsServer.close();
      }
      stopped.countDown();
    }, "launcher-shutdown"));
    log.event("launcher_start", "host", host.name(), "control_plane", channel.endpoints(),
        "data_dir", dataDir.toAbsolutePath(), "metrics",
        metricsServer == null ? "off" : metricsServer.url());
    reconciler.start();
    sync.start();
    classArchive.ifPresent(archive -> makeInBackground(archive, dataDir.toAbsolutePath(), log));
    new CertificateRenewer(identity, channel, clock, scheduler, log, Duration.ofHours(1)).start();
    stopped.await();
    return 0;
  }
  /** Where the agents' class-data archive is kept, in the data dir. */
  static final String CLASS_ARCHIVE_DIR = "class-archive";
  static final String AGENT_MAIN_CLASS = "io.infraveil.agent.main.AgentMain";
  private static final Duration CLASS_ARCHIVE_TRAINING_TIMEOUT = Duration.ofMinutes(2);

  /**
   * Makes the agents' class-data archive on a thread of its own when it does not exist yet
   * (once per JDK and jars); agents spawned meanwhile start without it.
   */
  private static void makeInBackground(AgentClassArchive archive, Path dataDir, LauncherLog log) {
    if (archive.exists()) {
      return;
    }
    Thread thread = new Thread(() -> {
      try {
        boolean made = archive.make(dataDir, dataDir.resolve(CLASS_ARCHIVE_DIR)
            .resolve("training.log"), CLASS_ARCHIVE_TRAINING_TIMEOUT);
        log.event(made ? "agent_class_archive_made" : "agent_class_archive_failed", "file",
            archive.file(), "log", dataDir.resolve(CLASS_ARCHIVE_DIR).resolve("training.log"));
      } catch (java.io.IOException | RuntimeException e) {
        log.event("agent_class_archive_failed", "file", archive.file(), "error", e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "agent-class-archive");
    thread.setDaemon(true);
    thread.setPriority(Thread.MIN_PRIORITY);
    thread.start();
  }
}
