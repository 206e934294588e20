package io.infraveil.agent;

import io.infraveil.appconfig.HealthCheckSpec;
import io.infraveil.appconfig.ServiceSpec;
import io.infraveil.host.process.ProcessGroups;
import io.infraveil.host.process.ProcessIdentity;
import io.infraveil.host.time.RollingWindow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs and heals one service of the running release: start sequence (preflight, start with the
 * start watch, postflight), confirmation check, periodic checks, crash detection, healing within
 * the {@link HealingPolicy} budget, stop. All state is touched only on the service's
 * {@link Lane}; readers get the published {@link AgentSnapshot.ServiceSnapshot}.
 */
final class ServiceRunner {

  /** What the runner tells its supervisor. */
  interface Host {
    void event(AgentEvent.Kind kind, String service, String reason, String message);

    /** A failure of this service while the version may still be a candidate. */
    void deployFailure(String service, FailureCause cause, String message);

    /** State, health or processes changed: save and notify. */
    void changed(ServiceRunner runner);
  }

  /** A start command still running after the start watch. */
  record Supervised(int clusterIndex, int commandIndex, ProcessIdentity identity) {}

  private record Failure(FailureCause cause, String message) {}

  private static final System.Logger LOG = System.getLogger(ServiceRunner.class.getName());

  private final ServiceSpec spec;
  private final Path releaseDir;
  private final Path agentDir;
  private final AgentSettings settings;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final Lane lane;
  private final HealingPolicy policy;
  private final Host host;
  private final RollingWindow attempts;

  // Lane-confined state.
  private ServiceState state = ServiceState.STARTING;
  private Health health = Health.UNKNOWN;
  private Instant lastCheckAt;
  private Duration lastCheckLatency;
  private String reason = "";
  private volatile List<Supervised> processes = List.of();
  private long restartsTotal;
  private long generation;
  private ScheduledFuture<?> timer;

  /** Set by stop() from any thread; the sequence checks it between steps. */
  private volatile boolean stopping;
  /** The preflight, postflight or check command running now, so stop() can kill it. */
  private volatile Process foreground;
  private volatile AgentSnapshot.ServiceSnapshot published;

  ServiceRunner(ServiceSpec spec, Path releaseDir, Path agentDir, AgentSettings settings,
      Clock clock, ScheduledExecutorService scheduler, Lane lane, HealingPolicy policy,
      Host host) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.releaseDir = Objects.requireNonNull(releaseDir, "releaseDir");
    this.agentDir = Objects.requireNonNull(agentDir, "agentDir");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.lane = Objects.requireNonNull(lane, "lane");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.host = Objects.requireNonNull(host, "host");
    this.attempts = new RollingWindow(policy.window());
    publish();
  }

  String name() {
    return spec.name();
  }

  ServiceSpec spec() {
    return spec;
  }

  AgentSnapshot.ServiceSnapshot snapshot() {
    return published;
  }

  /** Runs the start sequence for the first time. */
  void begin() {
    lane.execute(() -> attempt(false));
  }

  /**
   * Takes over processes a previous agent started for this release: no preflight, no start.
   * Processes whose identity no longer matches (gone, or pid reused) are never touched; if any
   * is missing the service is healed.
   */
  void adopt(AgentState.SavedService saved) {
    lane.execute(() -> {
      List<Supervised> found = new ArrayList<>();
      boolean missing = false;
      for (AgentState.SavedProcess p : saved.processes()) {
        ProcessIdentity identity = p.identity();
        if (identity.isAlive()) {
          found.add(new Supervised(p.clusterIndex(), p.commandIndex(), identity));
        } else {
          missing = true;
        }
      }
      generation++;
      processes = List.copyOf(found);
      processes.forEach(this::watchExit);
      if (saved.state() == ServiceState.FAILED) {
        state = ServiceState.FAILED;
        reason = HealingDecision.Reason.BUDGET_EXHAUSTED.name();
        changed();
        return;
      }
      if (missing || saved.state() != ServiceState.RUNNING) {
        state = ServiceState.RUNNING;
        changed();
        fail(FailureCause.PROCESS_EXITED, missing
            ? "a process saved by the previous agent is gone" : "previous agent was "
                + saved.state() + " when it stopped");
        return;
      }
      state = ServiceState.RUNNING;
      health = spec.healthcheck().isPresent() ? Health.UNKNOWN : Health.HEALTHY;
      changed();
      scheduleCheck(Duration.ZERO);
    });
  }

  /** Stops the service's processes and leaves it STOPPED; waits until done. */
  void stop() {
    stopping = true;
    Process running = foreground;
    if (running != null) {
      ProcessGroups.signalGroup(running.pid(), "KILL");
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    lane.execute(() -> {
      try {
        cancelTimer();
        stopProcesses();
        state = ServiceState.STOPPED;
        changed();
      } finally {
        done.complete(null);
      }
    });
    done.join();
  }

  // ---- lane-confined work ----

  private void attempt(boolean healing) {
    if (stopping) {
      return;
    }
    Optional<Failure> failure = runSequence();
    if (stopping) {
      stopProcesses();
      return;
    }
    if (failure.isEmpty() && spec.healthcheck().isPresent()) {
      failure = confirm();
    } else if (failure.isEmpty()) {
      health = Health.HEALTHY;
    }
    if (failure.isPresent()) {
      state = healing ? ServiceState.HEALING : ServiceState.STARTING;
      fail(failure.get().cause(), failure.get().message());
      return;
    }
    state = ServiceState.RUNNING;
    reason = "";
    if (healing) {
      host.event(AgentEvent.Kind.SERVICE_RECOVERED, spec.name(), "",
          "recovered after attempt " + attempts.count(clock.instant()));
    }
    changed();
    scheduleCheck(spec.healthcheck().map(HealthCheckSpec::interval).orElse(Duration.ZERO));
  }

  /** Preflight, start (per cluster index), postflight; the first failure ends it. */
  private Optional<Failure> runSequence() {
    stopProcesses();
    generation++;
    processes = List.of();
    health = Health.UNKNOWN;
    changed();
    Path out0 = LogFiles.stdout(agentDir, spec.name(), 0);
    Path err0 = LogFiles.stderr(agentDir, spec.name(), 0);
    for (String command : spec.run().preflight()) {
      Optional<Failure> failed = step(command, FailureCause.PREFLIGHT_FAILED, out0, err0);
      if (failed.isPresent() || stopping) {
        return failed;
      }
    }
    List<Supervised> started = new ArrayList<>();
    for (int index = 0; index < spec.clusters(); index++) {
      List<String> start = spec.run().start();
      for (int c = 0; c < start.size(); c++) {
        if (stopping) {
          processes = List.copyOf(started);
          return Optional.empty();
        }
        Optional<Failure> failed = startOne(index, c, start.get(c), started);
        processes = List.copyOf(started);
        if (failed.isPresent()) {
          return failed;
        }
      }
    }
    for (String command : spec.run().postflight()) {
      Optional<Failure> failed = step(command, FailureCause.POSTFLIGHT_FAILED, out0, err0);
      if (failed.isPresent() || stopping) {
        return failed;
      }
    }
    for (Supervised p : processes) {
      if (!p.identity().isAlive()) {
        return Optional.of(new Failure(FailureCause.PROCESS_EXITED, "process " + p.identity().pid()
            + " (cluster " + p.clusterIndex() + ") exited during the start sequence"));
      }
    }
    processes.forEach(this::watchExit);
    return Optional.empty();
  }

  private Optional<Failure> step(String command, FailureCause cause, Path out, Path err) {
    try {
      Commands.Result result = Commands.run(command, releaseDir, env(null), out, err,
          settings.commandTimeout(), clock, p -> foreground = p);
      return result.succeeded() ? Optional.empty()
          : Optional.of(new Failure(cause, result.describe(command)));
    } catch (IOException e) {
      return Optional.of(new Failure(cause, "cannot run '" + command + "': " + e.getMessage()));
    }
  }

  private Optional<Failure> startOne(int index, int commandIndex, String command,
      List<Supervised> started) {
    Process process;
    try {
      process = ProcessGroups.startInNewSession(List.of("sh", "-c", command), releaseDir,
          env(index), LogFiles.stdout(agentDir, spec.name(), index),
          LogFiles.stderr(agentDir, spec.name(), index));
    } catch (IOException e) {
      return Optional.of(new Failure(FailureCause.START_FAILED,
          "cannot start '" + command + "': " + e.getMessage()));
    }
    Optional<ProcessIdentity> identity = ProcessIdentity.of(process.toHandle());
    boolean exited;
    try {
      exited = process.waitFor(settings.startWatch().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      exited = false;
    }
    if (exited) {
      int code = process.exitValue();
      return code == 0 ? Optional.empty() : Optional.of(new Failure(FailureCause.START_FAILED,
          "'" + command + "' (cluster " + index + ") exited " + code + " within the start watch"));
    }
    if (identity.isEmpty()) {
      ProcessGroups.signalGroup(process.pid(), "KILL");
      return Optional.of(new Failure(FailureCause.START_FAILED,
          "cannot read the start time of process " + process.pid()));
    }
    started.add(new Supervised(index, commandIndex, identity.get()));
    return Optional.empty();
  }

  private Map<String, String> env(Integer clusterIndex) {
    Map<String, String> env = new LinkedHashMap<>(spec.env());
    env.put("INFRAVEIL_SERVICE", spec.name());
    env.put("INFRAVEIL_RELEASE_DIR", releaseDir.toAbsolutePath().toString());
    if (clusterIndex != null) {
      env.put("INFRAVEIL_CLUSTER_INDEX", Integer.toString(clusterIndex));
    }
    return env;
  }

  private void watchExit(Supervised p) {
    long gen = generation;
    p.identity().find().ifPresentOrElse(
        handle -> handle.onExit().thenRun(() -> lane.execute(() -> processExited(gen, p))),
        () -> lane.execute(() -> processExited(gen, p)));
  }

  private void processExited(long gen, Supervised p) {
    if (gen != generation || state != ServiceState.RUNNING || stopping) {
      return;
    }
    fail(FailureCause.PROCESS_EXITED, "process " + p.identity().pid() + " (cluster "
        + p.clusterIndex() + ") exited");
  }

  /**
   * The confirming check after a start. Within {@code healthcheck.start_period} a failing check
   * is retried about once a second (a service may take a while to listen), as long as its
   * supervised processes live; after it, or without one, the first failure counts.
   */
  private Optional<Failure> confirm() {
    HealthCheckSpec check = spec.healthcheck().orElseThrow();
    Instant until = clock.instant().plus(check.startPeriod());
    Duration pause = check.interval().compareTo(Duration.ofSeconds(1)) < 0 ? check.interval() : Duration.ofSeconds(1);
    while (true) {
      Optional<String> problem = check();
      if (problem.isEmpty()) {
        return Optional.empty();
      }
      boolean processesLive = processes.stream().allMatch(p -> p.identity().isAlive());
      if (stopping || !processesLive || !clock.instant().plus(pause).isBefore(until)) {
        return Optional.of(new Failure(FailureCause.CHECK_FAILED, problem.get()));
      }
      try {
        Thread.sleep(pause.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.of(new Failure(FailureCause.CHECK_FAILED, problem.get()));
      }
    }
  }

  /** Runs the check; empty when healthy, else what was wrong. Records time and latency. */
  private Optional<String> check() {
    HealthCheckSpec check = spec.healthcheck().orElseThrow();
    Path out = agentDir.resolve("run").resolve(spec.name() + ".check.out");
    Path err = agentDir.resolve("run").resolve(spec.name() + ".check.err");
    Optional<String> problem;
    try {
      Files.createDirectories(out.getParent());
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      Commands.Result result = Commands.run(check.cmd(), releaseDir, env(null), out, err,
          check.timeout(), clock, p -> foreground = p);
      lastCheckAt = result.startedAt();
      lastCheckLatency = result.took();
      if (result.timedOut()) {
        problem = Optional.of("check " + result.describe(check.cmd()));
      } else if (check.test().isPresent()) {
        problem = Commands.head(out).contains(check.test().get()) ? Optional.empty()
            : Optional.of("check output of '" + check.cmd() + "' lacks \"" + check.test().get()
                + "\"");
      } else {
        problem = result.exitCode() == 0 ? Optional.empty()
            : Optional.of("check " + result.describe(check.cmd()));
      }
    } catch (IOException e) {
      lastCheckAt = clock.instant();
      lastCheckLatency = Duration.ZERO;
      problem = Optional.of("cannot run check '" + check.cmd() + "': " + e.getMessage());
    }
    health = problem.isEmpty() ? Health.HEALTHY : Health.UNHEALTHY;
    return problem;
  }

  private void scheduleCheck(Duration delay) {
    cancelTimer();
    if (spec.healthcheck().isEmpty() || stopping) {
      return;
    }
    long gen = generation;
    timer = scheduler.schedule(() -> lane.execute(() -> periodicCheck(gen)), delay.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private void periodicCheck(long gen) {
    if (gen != generation || state != ServiceState.RUNNING || stopping) {
      return;
    }
    Health before = health;
    Optional<String> problem = check();
    if (gen != generation || state != ServiceState.RUNNING || stopping) {
      return; // a crash was handled while the check ran
    }
    if (problem.isPresent()) {
      fail(FailureCause.CHECK_FAILED, problem.get());
      return;
    }
    changed(); // time and latency of the last check
    if (before != health) {
      LOG.log(System.Logger.Level.DEBUG, spec.name() + " is " + health);
    }
    scheduleCheck(spec.healthcheck().get().interval());
  }

  /** A crash, a failed check or a failed start: stop what is left, then heal or give up. */
  private void fail(FailureCause cause, String message) {
    cancelTimer();
    generation++;
    if (cause != FailureCause.CHECK_FAILED && health != Health.UNHEALTHY) {
      health = Health.UNKNOWN;
    }
    reason = cause.name();
    host.event(AgentEvent.Kind.SERVICE_UNHEALTHY, spec.name(), cause.name(), message);
    host.deployFailure(spec.name(), cause, message);
    stopProcesses();
    if (stopping) {
      return;
    }
    Instant now = clock.instant();
    HealingDecision decision = policy.decide(attempts.events(now), now);
    switch (decision.action()) {
      case GIVE_UP -> {
        state = ServiceState.FAILED;
        reason = decision.reason().name();
        host.event(AgentEvent.Kind.SERVICE_FAILED, spec.name(), decision.reason().name(),
            decision.attempt() + " healing attempts within " + policy.window()
                + " did not help; last: " + message);
        changed();
      }
      case HEAL -> {
        state = ServiceState.HEALING;
        attempts.record(now);
        restartsTotal++;
        changed();
        long gen = generation;
        timer = scheduler.schedule(() -> lane.execute(() -> {
          if (gen == generation && state == ServiceState.HEALING) {
            attempt(true);
          }
        }), decision.delay().toMillis(), TimeUnit.MILLISECONDS);
      }
      default -> throw new AssertionError("unexpected healing action " + decision.action());
    }
  }

  private void stopProcesses() {
    for (Supervised p : processes) {
      ProcessGroups.stopGroup(p.identity(), spec.stopSignal(), spec.stopTimeout());
    }
    if (!processes.isEmpty()) {
      processes = List.of();
      generation++;
    }
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void changed() {
    publish();
    host.changed(this);
  }

  private void publish() {
    Instant now = clock.instant();
    published = new AgentSnapshot.ServiceSnapshot(spec.name(), state, health,
        Optional.ofNullable(lastCheckAt), Optional.ofNullable(lastCheckLatency),
        attempts.count(now), restartsTotal,
        processes.stream().map(p -> new AgentSnapshot.ProcessSnapshot(p.clusterIndex(),
            p.identity().pid(), p.identity().startedAt(), p.identity().startTicks())).toList(),
        reason);
  }

  /** The service as saved for adoption (published view, safe from any thread). */
  AgentState.SavedService saved() {
    List<Supervised> current = processes;
    return new AgentState.SavedService(published.state(), current.stream()
        .map(p -> new AgentState.SavedProcess(p.clusterIndex(), p.commandIndex(), p.identity()))
        .toList());
  }
}
