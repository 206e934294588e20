package io.infraveil.agent.main;

import io.infraveil.agent.AgentSettings;
import io.infraveil.host.options.DurationConverter;
import io.infraveil.logging.LogFormat;
import io.infraveil.logging.Logging;
import java.nio.file.Path;
import java.util.Map;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code infraveil agent --data-dir DATA --deployment NAME}: started by the launcher, not by
 * people. It first takes its deployment's {@link AgentLock}; when another agent holds it, it
 * exits with code 3 naming the deployment and that agent's pid, having touched nothing. Runs until SIGTERM, which stops the deployment's services before exiting (the
 * launcher sends it only when the deployment is no longer wanted here or must restart). A
 * SIGKILL leaves the services running; the next agent adopts them. The agent never exits on its
 * own once started, not even when nothing can run: the launcher would count that as a crash,
 * and the heartbeat is where the reason is reported.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
    description = "Supervises one deployment's services on this host (started by the launcher).")
public final class AgentMain implements java.util.concurrent.Callable<Integer> {

  @Option(names = "--data-dir", required = true, description = "Host data directory.")
  Path dataDir;

  @Option(names = "--deployment", required = true, description = "Deployment to supervise.")
  String deployment;

  @Option(names = "--stabilization", converter = DurationConverter.class,
      description = "Healthy time before a candidate is known good (default 60s).")
  java.time.Duration stabilization;

  @Option(names = "--healing-stable-period", converter = DurationConverter.class,
      description = "Healthy time after which a service's restarts are earned back"
          + " (default 10m).")
  java.time.Duration healingStablePeriod;

  @Option(names = "--heartbeat-interval", converter = DurationConverter.class,
      description = "Full heartbeat interval (default 10s).")
  java.time.Duration heartbeatInterval;

  @Option(names = "--log-format", defaultValue = "logfmt", paramLabel = "logfmt|json",
      description = "Format of this agent's own log, DATA/agents/NAME/agent.log, rotated at "
          + "10 MiB, 3 kept (default: ${DEFAULT-VALUE}).")
  String logFormat;

  @Option(names = io.infraveil.host.jvm.AgentClassArchive.TRAINING_OPTION, hidden = true,
      description = "Loads what an agent's start loads and exits (the launcher's class-archive"
          + " training run); touches no deployment.")
  boolean classArchiveTraining;

  @Option(names = "--report-reconnect-max", converter = DurationConverter.class,
      description = "Cap of the reconnect and fetch-retry backoff (default 30s).")
  java.time.Duration reconnectMax;

  /** The defaults, with whatever the command line overrides (battle tests use seconds). */
  Agent.Settings settings() {
    Agent.Settings settings = Agent.Settings.defaults();
    if (stabilization != null) {
      AgentSettings engine = settings.engine();
      settings = settings.withEngine(engine.withVersions(stabilization,
          engine.deployFailuresBeforeRollback(), engine.deployFailureWindow()));
    }
    if (healingStablePeriod != null) {
      AgentSettings engine = settings.engine();
      settings = settings.withEngine(engine.withHealing(engine.healingMaxRestarts(),
          engine.healingBackoffInitial(), engine.healingBackoffMax(), healingStablePeriod));
    }
    if (heartbeatInterval != null || reconnectMax != null) {
      settings = settings.withReporting(
          heartbeatInterval != null ? heartbeatInterval : settings.heartbeatInterval(),
          settings.heartbeatMinGap(), settings.logFlushInterval(), settings.reconnectInitial(),
          reconnectMax != null ? reconnectMax : settings.reconnectMax());
    }
    return settings;
  }

  public static void main(String[] args) {
    java.util.Optional<AgentMain> quick = launcherForm(args);
    int code;
    if (quick.isPresent()) {
      try {
        code = quick.get().call();
      } catch (Exception e) {
        e.printStackTrace();
        code = 1;
      }
    } else {
      code = new CommandLine(new AgentMain()).execute(args);
    }
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * The command line as the launcher writes it (each option known, as {@code --name value} or
   * {@code --name=value}, with {@code --data-dir} and {@code --deployment}), read without
   * picocli: its classes (Java 5 class files) stay out of the class-data archive, and building
   * its model from the annotations was the largest part of an agent's start after the archive.
   * Anything else (help, version, a typo, a bad value) is empty and goes through picocli, which
   * explains it. {@code AgentMainTest} checks that both read every option alike.
   */
  static java.util.Optional<AgentMain> launcherForm(String[] args) {
    AgentMain main = new AgentMain();
    main.logFormat = "logfmt";
    DurationConverter durations = new DurationConverter();
    java.util.Set<String> seen = new java.util.HashSet<>();
    try {
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        int eq = arg.indexOf('=');
        String name = eq < 0 ? arg : arg.substring(0, eq);
        if (!seen.add(name)) {
          return java.util.Optional.empty(); // given twice: picocli says which
        }
        if (name.equals(io.infraveil.host.jvm.AgentClassArchive.TRAINING_OPTION) && eq < 0) {
          main.classArchiveTraining = true;
          continue;
        }
        String value;
        if (eq >= 0) {
          value = arg.substring(eq + 1);
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          return java.util.Optional.empty();
        }
        switch (name) {
          case "--data-dir" -> main.dataDir = Path.of(value);
          case "--deployment" -> main.deployment = value;
          case "--stabilization" -> main.stabilization = durations.convert(value);
          case "--healing-stable-period" -> main.healingStablePeriod = durations.convert(value);
          case "--heartbeat-interval" -> main.heartbeatInterval = durations.convert(value);
          case "--report-reconnect-max" -> main.reconnectMax = durations.convert(value);
          case "--log-format" -> {
            LogFormat.named(value); // a bad one is picocli's to explain
            main.logFormat = value;
          }
          default -> {
            return java.util.Optional.empty();
          }
        }
      }
    } catch (RuntimeException bad) {
      return java.util.Optional.empty();
    }
    return main.dataDir == null || main.deployment == null ? java.util.Optional.empty()
        : java.util.Optional.of(main);
  }

  /**
   * The agent's own log: a size-rotated file in its dir, in the format every Infraveil program
   * writes. Standard error (the launcher's agent.err.log) keeps only what comes before this, or
   * what the JVM itself prints.
   */
  void configureLogging() {
    Logging.configure("agent", Map.of("deployment", deployment), LogFormat.named(logFormat),
        new Logging.RollingFile(AgentDesired.agentDir(dataDir, deployment).resolve(LOG_FILE),
            Logging.DEFAULT_MAX_BYTES, Logging.DEFAULT_KEEP));
  }

  /** The agent's own log file in its dir. */
  public static final String LOG_FILE = "agent.log";

  /** Exit code of an agent that finds its deployment already supervised. */
  static final int EXIT_ALREADY_SUPERVISED = 3;

  @Override
  public Integer call() throws Exception {
    if (classArchiveTraining) {
      return ClassArchiveTraining.run(dataDir);
    }
    // Before anything else: a second agent for the deployment must not touch its files.
    AgentLock.Attempt attempt;
    try {
      attempt = AgentLock.tryAcquire(dataDir, deployment);
    } catch (java.io.IOException e) {
      System.err.println("agent for deployment '" + deployment + "' cannot take its lock "
          + AgentLock.file(dataDir, deployment) + ": " + e.getMessage());
      return 1;
    }
    if (!attempt.acquired()) {
      System.err.println("agent for deployment '" + deployment + "' refuses to start: "
          + "another agent already supervises it (" + AgentLock.pid(attempt.holder())
              .map(pid -> "pid " + pid).orElse("pid not written yet") + ", lock "
          + AgentLock.file(dataDir, deployment) + "); stop that agent first");
      return EXIT_ALREADY_SUPERVISED;
    }
    try {
      // Built once the version runs, or when a call needs it: the longest part of a start.
      DeferredChannel channel = Agent.openChannel(dataDir, deployment);
      try {
        configureLogging();
      } catch (RuntimeException e) {
        System.err.println("agent for deployment '" + deployment + "' cannot start: "
            + e.getMessage());
        channel.shutdownNow();
        return 1;
      }
      return supervise(channel);
    } finally {
      // The lock must live as long as this process: the kernel drops it when the process ends.
      java.lang.ref.Reference.reachabilityFence(attempt);
    }
  }

  private int supervise(DeferredChannel channel) throws InterruptedException {
    AtomicInteger threads = new AtomicInteger();
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "agent-scheduler-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    Agent agent;
    try {
      agent = Agent.open(dataDir, deployment, channel, settings(), Clock.systemUTC(),
          scheduler);
    } catch (java.io.IOException | RuntimeException e) {
      System.err.println("agent for deployment '" + deployment + "' cannot start: "
          + e.getMessage());
      org.slf4j.LoggerFactory.getLogger(AgentMain.class).error("agent for deployment '"
          + deployment + "' cannot start: " + e.getMessage(), e);
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      agent.shutdown();
      scheduler.shutdownNow();
      stopped.countDown();
    }, "agent-shutdown"));
    agent.start();
    stopped.await();
    return 0;
  }
}
