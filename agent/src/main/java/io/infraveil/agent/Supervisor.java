package io.infraveil.agent;

import io.infraveil.appconfig.AppConfig;
import io.infraveil.appconfig.AppConfigParser;
import io.infraveil.appconfig.ConfigException;
import io.infraveil.appconfig.ConfigOverrides;
import io.infraveil.appconfig.ServiceSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The agent's supervision engine: runs the services of one release, heals them within their
 * budget, tracks the version (candidate, known good), rolls back, saves what it runs to
 * {@code <agentDir>/agent_state.json} so a restarted agent adopts live processes, tails logs
 * into a bounded {@link LogQueue} and records {@link AgentEvent}s.
 *
 * <p>Timers run on the injected scheduler; blocking work (commands, checks, stops) runs on an
 * internal pool, one {@link Lane} per service.
 */
public final class Supervisor implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(Supervisor.class.getName());
  /** DESIGN §6's default stop_timeout, for processes whose config is no longer at hand. */
  private static final Duration LEFTOVER_STOP_TIMEOUT = Duration.ofSeconds(10);

  private final Path agentDir;
  private final ReleaseProvider releases;
  private final AgentSettings settings;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final AgentStateStore store;
  /** Writes the state off the lanes: a restart does not wait for an fsync. */
  private final StateWriter writer;
  private final Containment containment;
  private final ServiceSecrets secrets;
  private final InstanceContext context;
  private final PortAssignments ports;
  private final HealingPolicy healingPolicy;
  private final ExecutorService workers;
  private final DropOldestBuffer<AgentEvent> events;
  private final LogQueue logQueue;
  private final LogRotator rotator;
  private final List<Consumer<AgentSnapshot>> listeners = new CopyOnWriteArrayList<>();
  /** Serializes start, rollback, stop and close. */
  private final ReentrantLock control = new ReentrantLock();
  private final Object lock = new Object();
  /** Guarded by {@code lock}. */
  private final VersionTracker tracker;
  /** Guarded by {@code lock}. */
  private Map<String, ServiceRunner> runners = Map.of();
  /** Guarded by {@code lock}. */
  private String releaseSha;
  /** Guarded by {@code control}: see {@link #replaceOnNextStart}. */
  private String handOverFor;
  /** Guarded by {@code lock}. */
  private final LogTailer tailer;
  private final ScheduledFuture<?> tick;
  private volatile boolean closed;

  public Supervisor(Path agentDir, ReleaseProvider releases, AgentSettings settings, Clock clock,
      ScheduledExecutorService scheduler) throws IOException {
    this(agentDir, releases, settings, clock, scheduler, new FileAgentStateStore(agentDir));
  }

  public Supervisor(Path agentDir, ReleaseProvider releases, AgentSettings settings, Clock clock,
      ScheduledExecutorService scheduler, AgentStateStore store) throws IOException {
    this(agentDir, releases, settings, clock, scheduler, store,
        Containment.standalone(agentDir));
  }

  /**
   * The agent's constructor without secrets: services are contained as {@code containment}
   * says (the host data dir's cgroups for this deployment). The shorter constructors use
   * cgroups named after the agent dir alone, for engine tests outside a host data dir.
   */
  public Supervisor(Path agentDir, ReleaseProvider releases, AgentSettings settings, Clock clock,
      ScheduledExecutorService scheduler, AgentStateStore store, Containment containment)
      throws IOException {
    this(agentDir, releases, settings, clock, scheduler, store, containment,
        ServiceSecrets.NONE);
  }

  /** Contained as above, with the secrets its releases name, outside a named host. */
  public Supervisor(Path agentDir, ReleaseProvider releases, AgentSettings settings, Clock clock,
      ScheduledExecutorService scheduler, AgentStateStore store, Containment containment,
      ServiceSecrets secrets) throws IOException {
    this(agentDir, releases, settings, clock, scheduler, store, containment, secrets,
        InstanceContext.standalone(agentDir), FreePorts.SYSTEM);
  }

  /**
   * The agent's constructor: contained as above, with the secrets its releases name, for the
   * host and deployment of {@code context} (whose labels select config.yaml's overrides), with
   * dynamic ports from {@code freePorts}.
   */
  public Supervisor(Path agentDir, ReleaseProvider releases, AgentSettings settings, Clock clock,
      ScheduledExecutorService scheduler, AgentStateStore store, Containment containment,
      ServiceSecrets secrets, InstanceContext context, FreePorts freePorts) throws IOException {
    this.context = Objects.requireNonNull(context, "context");
    this.ports = new PortAssignments(agentDir, freePorts);
    this.containment = Objects.requireNonNull(containment, "containment");
    this.secrets = Objects.requireNonNull(secrets, "secrets");
    this.agentDir = Objects.requireNonNull(agentDir, "agentDir");
    this.releases = Objects.requireNonNull(releases, "releases");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.store = Objects.requireNonNull(store, "store");
    this.writer = new StateWriter(store);
    Files.createDirectories(LogFiles.dir(agentDir));
    AgentState saved = store.load();
    this.tracker = new VersionTracker(settings.stabilization(),
        new RollbackPolicy(settings.deployFailuresBeforeRollback(),
            settings.deployFailureWindow()), saved.versions());
    this.healingPolicy = settings.healingPolicy();
    this.events = new DropOldestBuffer<>(settings.eventCapacity());
    this.logQueue = new LogQueue(settings.logQueueCapacity());
    this.rotator = new LogRotator(settings.logMaxBytes(), settings.logKeep());
    this.tailer = new LogTailer(logQueue, clock);
    AtomicInteger threads = new AtomicInteger();
    this.workers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "agent-worker-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    long tickMillis = settings.tickInterval().toMillis();
    this.tick = scheduler.scheduleWithFixedDelay(() -> workers.execute(this::tick), tickMillis,
        tickMillis, TimeUnit.MILLISECONDS);
  }

  /**
   * Runs version {@code sha256}: adopts the live processes a previous agent left for it, or
   * stops the current version and starts this one. A release that cannot be used is rejected
   * (PAYLOAD_REJECTED) before anything is stopped.
   */
  public StartResult start(String sha256) {
    Objects.requireNonNull(sha256, "sha256");
    control.lock();
    try {
      if (closed) {
        throw new IllegalStateException("supervisor is closed");
      }
      synchronized (lock) {
        if (sha256.equals(releaseSha)) {
          return new StartResult(StartResult.Outcome.ALREADY_RUNNING, "");
        }
      }
      Path dir;
      AppConfig config;
      try {
        dir = releases.releaseDir(sha256);
        config = AppConfigParser.parse(dir.resolve("config.yaml"));
        // This host's overrides (by its labels) merged over the base, before anything stops.
        config = ConfigOverrides.mergedFor(config, context.hostLabels());
      } catch (ConfigException | IOException e) {
        String message = e.getMessage();
        event(AgentEvent.Kind.PAYLOAD_REJECTED, "", e instanceof ConfigException
            ? "BAD_CONFIG" : "RELEASE_UNAVAILABLE", message, sha256);
        return new StartResult(StartResult.Outcome.REJECTED, message);
      }
      ServiceSecrets.Prepared prepared = secrets.prepare(config);
      if (prepared.config().isEmpty()) {
        event(AgentEvent.Kind.DEPLOY_FAILED, "", "SECRET_UNAVAILABLE", prepared.problem(),
            sha256);
        return new StartResult(StartResult.Outcome.REJECTED, prepared.problem());
      }
      config = prepared.config().get();
      writer.flush();
      AgentState saved = loadQuietly();
      boolean replace = sha256.equals(handOverFor);
      handOverFor = null;
      boolean adopt = !replace && sha256.equals(saved.releaseSha256())
          && !saved.services().isEmpty();
      stopRunners();
      Map<String, ServiceRunner.Retiring> rolling = Map.of();
      if (!adopt) {
        // What a previous agent left running: services of several cluster indexes are
        // replaced index by index by their new runner; the rest stops now, before anything
        // new starts.
        rolling = rollingReplacements(config, saved);
        stopLeftovers(saved, rolling.keySet(), config);
        killLeftoverCgroups(keptCgroups(rolling));
      } else {
        killLeftoverCgroups(keptCgroups(config));
      }
      Map<String, ServiceRunner> created = new LinkedHashMap<>();
      for (ServiceSpec spec : config.services().values()) {
        created.put(spec.name(), new ServiceRunner(spec, dir, agentDir, settings, clock,
            scheduler, new Lane(workers, spec.name()), healingPolicy, host, containment, context,
            ports));
      }
      VersionStatus status;
      synchronized (lock) {
        releaseSha = sha256;
        runners = created;
        status = adopt ? tracker.status() : tracker.started(sha256);
        for (ServiceRunner runner : created.values()) {
          followLogs(runner.spec());
        }
      }
      if (!adopt) {
        event(AgentEvent.Kind.VERSION_STARTED, "", status.name(), "started as " + status,
            sha256);
      }
      persist();
      for (ServiceRunner runner : created.values()) {
        AgentState.SavedService previous = adopt ? saved.services().get(runner.name()) : null;
        if (previous != null) {
          runner.adopt(previous);
        } else if (rolling.containsKey(runner.name())) {
          runner.beginReplacing(rolling.get(runner.name()));
        } else {
          runner.begin();
        }
      }
      notifyListeners();
      return new StartResult(adopt ? StartResult.Outcome.ADOPTED : StartResult.Outcome.STARTED,
          "");
    } finally {
      control.unlock();
    }
  }

  /**
   * Stops every service in parallel (stop signal, stop_timeout, SIGKILL of each process group),
   * so it returns within the longest stop_timeout, and saves.
   */
  public void stop() {
    control.lock();
    try {
      stopRunners();
      killLeftoverCgroups(java.util.Set.of());
      persist();
      writer.flush();
      notifyListeners();
    } finally {
      control.unlock();
    }
  }

  /**
   * Lets go without stopping anything: timers and workers end, service processes keep running
   * and a later supervisor over the same agent dir adopts them.
   */
  @Override
  public void close() {
    control.lock();
    try {
      closed = true;
      tick.cancel(false);
      workers.shutdownNow();
      writer.flush();
    } finally {
      control.unlock();
    }
  }

  public AgentSnapshot snapshot() {
    synchronized (lock) {
      List<AgentSnapshot.ServiceSnapshot> services = new ArrayList<>();
      runners.values().forEach(r -> services.add(r.snapshot()));
      return new AgentSnapshot(clock.instant(), Optional.ofNullable(releaseSha),
          tracker.status(), tracker.lastKnownGood(), services, events.dropped(),
          logQueue.size(), logQueue.capacity(), logQueue.dropped(), containment.description());
    }
  }

  /** Called with a fresh snapshot on every change (state, health, check, version). */
  public void addListener(Consumer<AgentSnapshot> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Removes and returns the events recorded since the last drain, oldest first. */
  public List<AgentEvent> drainEvents() {
    return events.drain(Integer.MAX_VALUE);
  }

  /**
   * Records an event decided outside the engine (a payload the cache rejected, a desired
   * version skipped because it is marked bad) in the same bounded buffer, then notifies.
   */
  public void recordEvent(AgentEvent.Kind kind, String reason, String message, String sha256) {
    event(kind, "", reason, message, sha256);
    notifyListeners();
  }

  public LogQueue logQueue() {
    return logQueue;
  }

  /** Versions this agent has seen fail and rolled back from. */
  public boolean isMarkedBad(String sha256) {
    synchronized (lock) {
      return tracker.isMarkedBad(sha256);
    }
  }

  // ---- internals ----

  private final ServiceRunner.Host host = new ServiceRunner.Host() {
    @Override
    public void event(AgentEvent.Kind kind, String service, String reason, String message) {
      String sha;
      synchronized (lock) {
        sha = releaseSha;
      }
      Supervisor.this.event(kind, service, reason, message, sha);
    }

    @Override
    public void deployFailure(String service, FailureCause cause, String message) {
      Supervisor.this.deployFailure(service, cause, message);
    }

    @Override
    public void changed(ServiceRunner runner) {
      persist();
      notifyListeners();
    }
  };

  private void deployFailure(String service, FailureCause cause, String message) {
    RollbackDecision decision;
    String failing;
    synchronized (lock) {
      if (tracker.status() != VersionStatus.CANDIDATE || runners.get(service) == null) {
        return;
      }
      failing = releaseSha;
      decision = tracker.deployFailure(clock.instant());
    }
    event(AgentEvent.Kind.DEPLOY_FAILED, service, cause.name(), "deploy failure "
        + decision.failuresInWindow() + " of " + settings.deployFailuresBeforeRollback()
        + ": " + message + " (" + decision.reason() + ")", failing);
    if (decision.action() == RollbackDecision.Action.ROLL_BACK) {
      String target = decision.target().orElseThrow();
      workers.execute(() -> rollBack(failing, target, decision.reason()));
    }
  }

  private void rollBack(String failing, String target, RollbackDecision.Reason reason) {
    control.lock();
    try {
      synchronized (lock) {
        if (closed || !failing.equals(releaseSha)) {
          return; // something else was started meanwhile
        }
      }
      event(AgentEvent.Kind.ROLLED_BACK, "", reason.name(), "rolled back from " + failing
          + " to last known good " + target, target);
      StartResult result = start(target);
      if (result.outcome() == StartResult.Outcome.REJECTED) {
        LOG.log(System.Logger.Level.ERROR, "rollback target " + target + " rejected: "
            + result.message());
      }
    } finally {
      control.unlock();
    }
  }

  /**
   * Stops every service at once and waits for all of them, so stopping a version takes as long
   * as its slowest service's stop_timeout, not the sum of them.
   */
  private void stopRunners() {
    List<ServiceRunner> current;
    synchronized (lock) {
      current = List.copyOf(runners.values());
    }
    inParallel(current.stream().<Runnable>map(runner -> runner::stop).toList());
  }

  /**
   * Processes a previous agent saved for another release (or for this one, handed over to be
   * replaced), all at once, except those of {@code rolling} services; only exact identities
   * are stopped, with the new release's stop_signal and stop_timeout for a service it still
   * has, else TERM and the default 10 s (the old config is not read again).
   */
  private void stopLeftovers(AgentState saved, java.util.Set<String> rolling, AppConfig config) {
    List<Runnable> stops = new ArrayList<>();
    saved.services().forEach((name, service) -> {
      if (rolling.contains(name)) {
        return;
      }
      ServiceSpec spec = config.services().get(name);
      String signal = spec == null ? "TERM" : spec.stopSignal();
      Duration timeout = spec == null ? LEFTOVER_STOP_TIMEOUT : spec.stopTimeout();
      // An instance with a populated cgroup is stopped through it (daemons such as pm2 are
      // there, not in the saved identities); the others by their saved identities. One signal
      // each: a second TERM means "hurry" to some servers.
      java.util.Set<Integer> byCgroup = new java.util.HashSet<>();
      service.cgroups().forEach(index -> containment.cgroup(name, index)
          .filter(g -> g.populated())
          .ifPresent(g -> {
            byCgroup.add(index);
            stops.add(() -> g.stop(signal, timeout));
          }));
      service.processes().forEach(p -> {
        var identity = p.identity();
        if (identity.isAlive() && !byCgroup.contains(p.clusterIndex())) {
          stops.add(() -> io.infraveil.host.process.ProcessGroups.stopGroup(identity, signal,
              timeout));
        }
      });
    });
    inParallel(stops);
  }

  /**
   * The services of {@code config} with {@code clusters: N >= 2} whose instances a previous
   * agent left running: their new runners replace them one cluster index at a time.
   */
  private Map<String, ServiceRunner.Retiring> rollingReplacements(AppConfig config,
      AgentState saved) {
    Map<String, ServiceRunner.Retiring> rolling = new LinkedHashMap<>();
    saved.services().forEach((name, service) -> {
      ServiceSpec spec = config.services().get(name);
      if (spec == null || spec.clusters() < 2) {
        return;
      }
      Map<Integer, List<io.infraveil.host.process.ProcessIdentity>> live = new java.util.TreeMap<>();
      service.processes().forEach(p -> {
        if (p.identity().isAlive()) {
          live.computeIfAbsent(p.clusterIndex(), i -> new ArrayList<>()).add(p.identity());
        }
      });
      // Every populated instance cgroup, not only the ones saved: an agent handed over in
      // the middle of its start sequence had not saved them yet.
      java.util.Set<Integer> populated = new java.util.TreeSet<>();
      for (int index = 0; index < ServiceSpec.MAX_CLUSTERS; index++) {
        int i = index;
        containment.cgroup(name, i).filter(g -> g.populated()).ifPresent(g -> populated.add(i));
      }
      if (!live.isEmpty() || !populated.isEmpty()) {
        rolling.put(name, new ServiceRunner.Retiring(live, populated));
      }
    });
    return rolling;
  }

  /** The instance cgroups of the old instances being replaced: left alone by the cleanup. */
  private java.util.Set<String> keptCgroups(Map<String, ServiceRunner.Retiring> rolling) {
    java.util.Set<String> keep = new java.util.HashSet<>();
    rolling.forEach((name, old) -> old.indexes().forEach(index ->
        containment.cgroup(name, index).ifPresent(g -> keep.add(g.name()))));
    return keep;
  }

  /** Every instance cgroup of {@code config}'s services (what an adopted release may use). */
  private java.util.Set<String> keptCgroups(AppConfig config) {
    java.util.Set<String> keep = new java.util.HashSet<>();
    config.services().values().forEach(spec -> {
      for (int index = 0; index < spec.clusters(); index++) {
        containment.cgroup(spec.name(), index).ifPresent(g -> keep.add(g.name()));
      }
    });
    return keep;
  }

  /**
   * The next start of {@code sha256} replaces what a previous agent left running for it
   * instead of adopting it: the launcher handed the services over for a restart (a new
   * generation of the same payload), see {@code AgentHandover}.
   */
  public void replaceOnNextStart(String sha256) {
    control.lock();
    try {
      handOverFor = Objects.requireNonNull(sha256, "sha256");
    } finally {
      control.unlock();
    }
  }

  /**
   * Runs each task on its own thread and returns when all are done. Blocking stops get threads
   * of their own, never the lanes' pool, so a stop cannot wait behind another service's work.
   */
  private static void inParallel(List<Runnable> tasks) {
    if (tasks.size() == 1) {
      tasks.get(0).run();
      return;
    }
    List<Thread> threads = new ArrayList<>();
    for (Runnable task : tasks) {
      Thread t = new Thread(() -> {
        try {
          task.run();
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.ERROR, "stopping a service failed", e);
        }
      }, "agent-stop-" + threads.size());
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    boolean interrupted = false;
    for (Thread t : threads) {
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true; // finish the stop anyway: nothing may be left running unwatched
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * With every runner stopped, whatever is still in the deployment's cgroups belongs to no
   * service of this agent (a service the new release dropped, a daemon of an old agent): stop
   * it, and remove the cgroups.
   */
  private void killLeftoverCgroups(java.util.Set<String> keep) {
    if (!containment.tracks()) {
      return;
    }
    var report = containment.killAllExcept(keep, java.time.Duration.ofSeconds(10));
    if (!report.leftOver().isEmpty()) {
      LOG.log(System.Logger.Level.ERROR, "cgroups that could not be emptied: "
          + report.leftOver());
    }
  }

  private void followLogs(ServiceSpec spec) {
    for (int i = 0; i < spec.clusters(); i++) {
      try {
        tailer.follow(LogFiles.stdout(agentDir, spec.name(), i), spec.name(), i,
            LogLine.Stream.STDOUT);
        tailer.follow(LogFiles.stderr(agentDir, spec.name(), i), spec.name(), i,
            LogLine.Stream.STDERR);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot follow logs of " + spec.name(), e);
      }
    }
  }

  /** Logs, rotation and the version's stabilization; runs every tick interval. */
  private void tick() {
    boolean knownGood;
    String sha;
    synchronized (lock) {
      tailer.poll();
      for (ServiceRunner runner : runners.values()) {
        for (int i = 0; i < runner.spec().clusters(); i++) {
          rotate(LogFiles.stdout(agentDir, runner.name(), i));
          rotate(LogFiles.stderr(agentDir, runner.name(), i));
        }
      }
      tailer.poll();
      boolean allHealthy = !runners.isEmpty() && runners.values().stream()
          .map(ServiceRunner::snapshot)
          .allMatch(s -> s.state() == ServiceState.RUNNING && s.health() == Health.HEALTHY);
      knownGood = tracker.observe(allHealthy, clock.instant());
      sha = releaseSha;
    }
    if (knownGood) {
      event(AgentEvent.Kind.VERSION_KNOWN_GOOD, "", "", "healthy for "
          + settings.stabilization(), sha);
      persist();
      notifyListeners();
    }
  }

  private void rotate(Path file) {
    try {
      rotator.rotateIfNeeded(file);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot rotate " + file, e);
    }
  }

  private void event(AgentEvent.Kind kind, String service, String reason, String message,
      String sha) {
    events.offer(new AgentEvent(clock.instant(), kind, service, reason, message, sha));
    LOG.log(System.Logger.Level.INFO, kind + " " + service + " " + reason + ": " + message);
  }

  private void persist() {
    synchronized (lock) {
      Map<String, AgentState.SavedService> services = new LinkedHashMap<>();
      runners.forEach((name, runner) -> services.put(name, runner.saved()));
      writer.submit(new AgentState(AgentState.FORMAT_VERSION, releaseSha,
          tracker.state(clock.instant()), services));
    }
  }

  /** Waits until every state change so far is on disk (tests, and callers that read it). */
  public void flushState() {
    writer.flush();
  }

  private AgentState loadQuietly() {
    try {
      return store.load();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.ERROR, "cannot read agent state; starting fresh", e);
      return AgentState.EMPTY;
    }
  }

  private void notifyListeners() {
    if (listeners.isEmpty()) {
      return;
    }
    AgentSnapshot snapshot = snapshot();
    for (Consumer<AgentSnapshot> listener : listeners) {
      try {
        listener.accept(snapshot);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "snapshot listener failed", e);
      }
    }
  }
}
