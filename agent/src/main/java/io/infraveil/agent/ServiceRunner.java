package io.infraveil.agent;

import io.infraveil.appconfig.HealthCheckSpec;
import io.infraveil.appconfig.ServiceSpec;
import io.infraveil.appconfig.ResourcesSpec;
import io.infraveil.host.process.ExitWatch;
import io.infraveil.host.process.ProcessGroups;
import io.infraveil.host.process.ProcessIdentity;
import io.infraveil.host.process.ServiceAccount;
import io.infraveil.host.process.cgroup.CgroupLimits;
import io.infraveil.host.process.cgroup.ContainedCommand;
import io.infraveil.host.process.cgroup.ServiceCgroup;
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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs and heals one service of the running release: start sequence (preflight, start with the
 * start watch, postflight), confirmation check, periodic checks, crash detection, healing within
 * the {@link HealingPolicy} budget, stop. All state is touched only on the service's
 * {@link Lane}; readers get the published {@link AgentSnapshot.ServiceSnapshot}.
 *
 * <p>Where the host has cgroups, every command of an instance (preflight and postflight in
 * instance 0's) runs in the instance's cgroup, so the instance counts as running while its
 * cgroup is populated: a start command that exits 0 after leaving a daemon behind (pm2,
 * {@code nohup ... &}, a double fork) is supervised like a foreground one, and its crash is
 * noticed when the cgroup empties. Stop signals every process of the cgroups, then kills them.
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

  /**
   * The running processes of the service's previous release (left by the agent before this
   * one) that the new start replaces one cluster index at a time: their identities by cluster
   * index, and the indexes whose cgroup was populated.
   */
  record Retiring(Map<Integer, List<ProcessIdentity>> processes, Set<Integer> cgroups) {
    Retiring {
      processes = Map.copyOf(processes);
      cgroups = Set.copyOf(cgroups);
    }

    Set<Integer> indexes() {
      Set<Integer> all = new TreeSet<>(processes.keySet());
      all.addAll(cgroups);
      return all;
    }
  }

  private record Failure(FailureCause cause, String message) {}

  /** The restart record and the start of the current healthy run, published together. */
  private record Budget(RestartRecord spent, Optional<Instant> healthySince) {
    int counted(HealingPolicy policy, Instant now) {
      return policy.standing(spent, healthySince, now).counted();
    }
  }

  private static final System.Logger LOG = System.getLogger(ServiceRunner.class.getName());
  /** How often populated cgroups are looked at (reading cgroup.events is cheap). */
  static final Duration CGROUP_POLL = Duration.ofMillis(100);

  private final ServiceSpec spec;
  private final Path releaseDir;
  private final Path agentDir;
  private final AgentSettings settings;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final Lane lane;
  private final HealingPolicy policy;
  private final Host host;
  /** One cgroup per cluster index; empty where the host has none (process groups then). */
  private final Map<Integer, ServiceCgroup> cgroups;
  private final Containment containment;
  private final InstanceContext context;
  private final PortAssignments portAssignments;

  // Lane-confined state.
  /** Ports per cluster index for the current start (empty when the service names none). */
  private volatile Map<Integer, Map<String, Integer>> ports = Map.of();
  private ServiceState state = ServiceState.STARTING;
  private Health health = Health.UNKNOWN;
  private Instant lastCheckAt;
  private Duration lastCheckLatency;
  private String reason = "";
  /** The latest failure, {@code CAUSE: message}, for the heartbeat of a FAILED service. */
  private String lastFailure = "";
  private volatile List<Supervised> processes = List.of();
  private long restartsTotal;
  /** What this service spent of its healing budget, and since when it has been healthy. */
  private volatile Budget budget = new Budget(RestartRecord.NONE, Optional.empty());
  private long generation;
  private ScheduledFuture<?> timer;
  private ScheduledFuture<?> poller;
  /** Cluster indexes whose cgroup was populated after the start: running while it stays so. */
  private volatile Set<Integer> watched = Set.of();
  private final Map<Integer, Long> oomSeen = new java.util.HashMap<>();
  private volatile long oomKills;
  private Optional<ServiceAccount> account = Optional.empty();

  /**
   * Old instances this start replaces one index at a time (lane-confined); null when none.
   * Each index's old processes move to its retiring cgroup just before its new process starts
   * and are stopped once that one is healthy; whatever is left when the sequence ends (it
   * failed, or the service stopped) is stopped then.
   */
  private Retiring retiring;
  /** Retiring cgroups holding old processes now, by cluster index (lane-confined). */
  private final Map<Integer, ServiceCgroup> asideNow = new LinkedHashMap<>();
  /** Cluster indexes whose new process this sequence has started (lane-confined). */
  private final Set<Integer> startedIndexes = new TreeSet<>();

  /** Set by stop() from any thread; the sequence checks it between steps. */
  private volatile boolean stopping;
  /** The preflight, postflight or check command running now, so stop() can kill it. */
  private volatile Process foreground;
  private volatile AgentSnapshot.ServiceSnapshot published;

  ServiceRunner(ServiceSpec spec, Path releaseDir, Path agentDir, AgentSettings settings,
      Clock clock, ScheduledExecutorService scheduler, Lane lane, HealingPolicy policy,
      Host host, Containment containment, InstanceContext context,
      PortAssignments portAssignments) {
    this.context = Objects.requireNonNull(context, "context");
    this.portAssignments = Objects.requireNonNull(portAssignments, "portAssignments");
    this.spec = Objects.requireNonNull(spec, "spec");
    this.releaseDir = Objects.requireNonNull(releaseDir, "releaseDir");
    this.agentDir = Objects.requireNonNull(agentDir, "agentDir");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.lane = Objects.requireNonNull(lane, "lane");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.host = Objects.requireNonNull(host, "host");
    this.containment = Objects.requireNonNull(containment, "containment");
    Map<Integer, ServiceCgroup> groups = new LinkedHashMap<>();
    for (int i = 0; i < spec.clusters(); i++) {
      int index = i;
      containment.cgroup(spec.name(), index).ifPresent(g -> groups.put(index, g));
    }
    this.cgroups = Map.copyOf(groups);
    publish();
  }

  String name() {
    return spec.name();
  }

  ServiceSpec spec() {
    return spec;
  }

  /** The latest published view; the restart count earned back by a stable run shows at once. */
  AgentSnapshot.ServiceSnapshot snapshot() {
    AgentSnapshot.ServiceSnapshot current = published;
    int counted = budget.counted(policy, clock.instant());
    return counted == current.restartsCounted() ? current : current.withRestartsCounted(counted);
  }

  /** Runs the start sequence for the first time. */
  void begin() {
    lane.execute(() -> attempt(false));
  }

  /**
   * Runs the start sequence for the first time, replacing the previous release's instances of
   * this service one cluster index at a time: the new process of index i starts, and once it
   * is healthy the old one of index i stops, then index i + 1. A failure stops every old
   * instance left and goes on as any failed start (healing, deploy failures, rollback).
   */
  void beginReplacing(Retiring old) {
    Objects.requireNonNull(old, "old");
    lane.execute(() -> {
      retiring = old;
      attempt(false);
    });
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
      Set<Integer> populated = new TreeSet<>();
      cgroups.forEach((index, group) -> {
        if (group.populated()) {
          populated.add(index);
        }
        oomSeen.put(index, group.oomKills());
      });
      if (!populated.containsAll(saved.cgroups().stream()
          .filter(cgroups::containsKey).toList())) {
        missing = true; // a daemonized instance whose cgroup emptied while no agent watched
      }
      generation++;
      ports = portAssignments.current(spec);
      processes = List.copyOf(found);
      watched = Set.copyOf(populated);
      processes.forEach(this::watchExit);
      if (saved.state() != ServiceState.STOPPED) {
        // The previous agent died rather than being stopped: its budget carries over. A
        // deliberate stop (restart, new generation) starts afresh.
        budget = new Budget(saved.restarts().toRecord(), Optional.empty());
        lastFailure = saved.lastFailure();
      }
      startPolling();
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
            ? "a process (or cgroup) saved by the previous agent is gone" : "previous agent was "
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
        cgroups.values().forEach(ServiceCgroup::remove);
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
          "recovered after restart " + budget.spent().counted() + " of " + policy.maxRestarts());
    }
    changed();
    scheduleCheck(spec.healthcheck().map(HealthCheckSpec::interval).orElse(Duration.ZERO));
  }

  /** Preflight, start (per cluster index), postflight; the first failure ends it. */
  private Optional<Failure> runSequence() {
    try {
      return runSteps();
    } finally {
      retireAll();
    }
  }

  private Optional<Failure> runSteps() {
    startedIndexes.clear();
    if (retiring != null) {
      // Stop only what this runner started before (nothing on a first start): the old
      // release's processes are replaced index by index below.
      cancelPoller();
      for (Supervised p : processes) {
        ProcessGroups.stopGroup(p.identity(), spec.stopSignal(), spec.stopTimeout());
      }
      processes = List.of();
      watched = Set.of();
    } else {
      stopProcesses();
    }
    generation++;
    processes = List.of();
    watched = Set.of();
    health = Health.UNKNOWN;
    try {
      ports = portAssignments.assign(spec);
    } catch (java.io.UncheckedIOException e) {
      changed();
      return Optional.of(new Failure(FailureCause.START_FAILED, e.getMessage()));
    }
    changed();
    Optional<Failure> unprepared = prepare();
    if (unprepared.isPresent()) {
      return unprepared;
    }
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
      boolean replacing = retiring != null && retiring.indexes().contains(index);
      if (replacing) {
        moveAside(index);
      }
      startedIndexes.add(index);
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
      if (replacing) {
        Optional<Failure> unhealthy = awaitInstanceHealthy(index);
        if (unhealthy.isPresent() || stopping) {
          return unhealthy;
        }
        retire(index);
      }
    }
    retireAll(); // old indexes beyond the new cluster count
    for (String command : spec.run().postflight()) {
      Optional<Failure> failed = step(command, FailureCause.POSTFLIGHT_FAILED, out0, err0);
      if (failed.isPresent() || stopping) {
        return failed;
      }
    }
    for (Supervised p : processes) {
      if (!instanceAlive(p)) {
        return Optional.of(new Failure(FailureCause.PROCESS_EXITED, "process " + p.identity().pid()
            + " (cluster " + p.clusterIndex() + ") exited during the start sequence"));
      }
    }
    // A start command slower than the watch that exited since, leaving its daemon: its
    // instance is watched through the cgroup (below), not through the command.
    processes = processes.stream().filter(p -> p.identity().isAlive()).toList();
    Set<Integer> populated = new TreeSet<>();
    cgroups.forEach((index, group) -> {
      if (group.populated()) {
        populated.add(index);
      }
    });
    watched = Set.copyOf(populated);
    processes.forEach(this::watchExit);
    startPolling();
    return Optional.empty();
  }

  /**
   * Before each start: the account to run as (files it needs handed over), and each
   * instance's cgroup with its limits; remembers the OOM-kill count so a later one is seen.
   */
  private Optional<Failure> prepare() {
    try {
      if (spec.user().isPresent()) {
        ServiceAccount a = ServiceAccount.lookup(spec.user().get());
        a.own(releaseDir);
        for (int i = 0; i < spec.clusters(); i++) {
          Files.createDirectories(pm2Home(i));
          a.own(pm2Home(i));
        }
        account = Optional.of(a);
      } else {
        account = Optional.empty();
      }
    } catch (IOException e) {
      return Optional.of(new Failure(FailureCause.START_FAILED, e.getMessage()));
    }
    ResourcesSpec r = spec.resources();
    CgroupLimits limits = new CgroupLimits(r.memoryBytes(), r.cpus(), r.pids());
    for (Map.Entry<Integer, ServiceCgroup> e : cgroups.entrySet()) {
      try {
        e.getValue().create(limits);
      } catch (IOException failed) {
        return Optional.of(new Failure(FailureCause.START_FAILED, "cannot set up cgroup "
            + e.getValue().name() + ": " + failed.getMessage()));
      }
      oomSeen.put(e.getKey(), e.getValue().oomKills());
    }
    return Optional.empty();
  }

  /**
   * Makes room for index {@code index}'s new process: its old processes leave the instance's
   * cgroup for the retiring one, where they keep serving. Where that is impossible (no cgroups
   * needs nothing; a refused move) the old index is stopped first instead, and the log says so.
   */
  private void moveAside(int index) {
    movePm2HomeAside(index);
    ServiceCgroup current = cgroups.get(index);
    if (current == null || !current.populated()) {
      return;
    }
    Optional<ServiceCgroup> aside = containment.retiringCgroup(spec.name(), index);
    try {
      current.moveAllTo(aside.orElseThrow());
      asideNow.put(index, aside.get());
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, spec.name() + " cluster " + index + ": cannot keep the"
          + " old process running beside the new one (" + e.getMessage() + "); stopping it first");
      current.stop(spec.stopSignal(), spec.stopTimeout());
    }
  }

  /**
   * An old instance's pm2 daemon keeps its home: the new instance must not talk to it (its
   * `pm2 start` would run the new app under the old daemon, in the retiring cgroup). The old
   * home is renamed to {@code <home>.old} (the daemon keeps its open files) so the new
   * instance's pm2 starts a daemon of its own; the old one is removed once retired.
   */
  private void movePm2HomeAside(int index) {
    if (spec.env().containsKey("PM2_HOME")) {
      return;
    }
    Path home = pm2Home(index);
    if (!Files.isDirectory(home)) {
      return;
    }
    try {
      Path old = retiredPm2Home(index);
      deleteTree(old);
      Files.move(home, old);
      if (account.isPresent()) {
        Files.createDirectories(home);
        account.get().own(home);
      }
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, spec.name() + " cluster " + index + ": cannot move"
          + " the old pm2 home aside: " + e.getMessage());
    }
  }

  private Path retiredPm2Home(int index) {
    return pm2Home(index).resolveSibling(pm2Home(index).getFileName() + ".old");
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path p : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * Waits until the new process of {@code index} is healthy: its check (run with the index's
   * environment) passes, retried about once a second within {@code healthcheck.start_period};
   * without a check, it is healthy when it outlived the start watch.
   */
  private Optional<Failure> awaitInstanceHealthy(int index) {
    List<Supervised> mine = processes.stream().filter(p -> p.clusterIndex() == index).toList();
    if (spec.healthcheck().isEmpty()) {
      return mine.stream().allMatch(this::instanceAlive) ? Optional.empty()
          : Optional.of(new Failure(FailureCause.PROCESS_EXITED, "cluster " + index
              + " exited before it replaced the old one"));
    }
    HealthCheckSpec check = spec.healthcheck().get();
    Instant until = clock.instant().plus(check.startPeriod());
    Duration pause = check.interval().compareTo(Duration.ofSeconds(1)) < 0 ? check.interval()
        : Duration.ofSeconds(1);
    while (true) {
      Optional<String> problem = checkOnce(index);
      if (problem.isEmpty()) {
        return Optional.empty();
      }
      boolean alive = mine.stream().allMatch(this::instanceAlive);
      if (stopping || !alive || !clock.instant().plus(pause).isBefore(until)) {
        return Optional.of(new Failure(FailureCause.CHECK_FAILED, "cluster " + index
            + " did not become healthy before replacing the old one: " + problem.get()));
      }
      try {
        Thread.sleep(pause.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.of(new Failure(FailureCause.CHECK_FAILED, problem.get()));
      }
    }
  }

  /** Stops the old processes of {@code index} (its retiring cgroup, then its saved groups). */
  private void retire(int index) {
    if (retiring == null) {
      return;
    }
    ServiceCgroup aside = asideNow.remove(index);
    if (aside != null) {
      aside.stop(spec.stopSignal(), spec.stopTimeout());
      aside.remove();
    }
    for (ProcessIdentity old : retiring.processes().getOrDefault(index, List.of())) {
      ProcessGroups.stopGroup(old, spec.stopSignal(), spec.stopTimeout());
    }
    try {
      deleteTree(retiredPm2Home(index));
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot remove " + retiredPm2Home(index) + ": "
          + e.getMessage());
    }
    if (aside == null && !startedIndexes.contains(index)) {
      // Not reached (a failure came first) or beyond the new cluster count: the old
      // processes are still in the instance's own cgroup, with nothing new beside them.
      containment.cgroup(spec.name(), index).ifPresent(g -> {
        g.stop(spec.stopSignal(), spec.stopTimeout());
        if (index >= spec.clusters()) {
          g.remove();
        }
      });
    }
    Map<Integer, List<ProcessIdentity>> left = new java.util.HashMap<>(retiring.processes());
    left.remove(index);
    Set<Integer> groups = new TreeSet<>(retiring.cgroups());
    groups.remove(index);
    retiring = left.isEmpty() && groups.isEmpty() ? null : new Retiring(left, groups);
  }

  /** Stops every old instance still running, one after another (the end of a replacement). */
  private void retireAll() {
    while (retiring != null) {
      retire(retiring.indexes().iterator().next());
    }
  }

  /** Each instance's own pm2 home, so each gets its own pm2 daemon inside its own cgroup. */
  private Path pm2Home(int clusterIndex) {
    return agentDir.resolve("run").resolve(spec.name() + "-" + clusterIndex + ".pm2");
  }

  /** The argv of a shell command of instance {@code clusterIndex} (null: outside cgroups). */
  private List<String> argv(String command, Integer clusterIndex) {
    return ContainedCommand.shell(command,
        clusterIndex == null ? Optional.empty() : Optional.ofNullable(cgroups.get(clusterIndex)),
        account);
  }

  /** The process lives, or it exited but left its instance's cgroup populated. */
  private boolean instanceAlive(Supervised p) {
    if (p.identity().isAlive()) {
      return true;
    }
    ServiceCgroup group = cgroups.get(p.clusterIndex());
    return group != null && group.populated();
  }

  /** Polls the watched cgroups; an emptied one is a crash, handled on the lane. */
  private void startPolling() {
    cancelPoller();
    Set<Integer> indexes = watched;
    if (indexes.isEmpty()) {
      return;
    }
    long gen = generation;
    poller = scheduler.scheduleWithFixedDelay(() -> {
      for (int index : indexes) {
        if (!cgroups.get(index).populated()) {
          lane.execute(() -> cgroupEmptied(gen, index));
          return;
        }
      }
    }, CGROUP_POLL.toMillis(), CGROUP_POLL.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void cgroupEmptied(long gen, int index) {
    if (gen != generation || state != ServiceState.RUNNING || stopping) {
      return;
    }
    fail(FailureCause.PROCESS_EXITED, "every process of cgroup " + cgroups.get(index).name()
        + " (cluster " + index + ") exited");
  }

  /**
   * An OOM kill since the last look, named with the limit; counted once. The kernel's count is
   * per cgroup, so a kill of any process of the instance shows here.
   */
  private Optional<String> takeOomKill() {
    String found = null;
    for (Map.Entry<Integer, ServiceCgroup> e : cgroups.entrySet()) {
      long now = e.getValue().oomKills();
      long before = oomSeen.getOrDefault(e.getKey(), now);
      if (now > before) {
        oomKills += now - before;
        oomSeen.put(e.getKey(), now);
        if (found == null) {
          found = "cluster " + e.getKey() + " was killed by the kernel OOM killer at its memory"
              + " limit " + spec.resources().memoryBytes().stream()
                  .mapToObj(ResourcesSpec::formatBytes).findFirst().orElse("(none set)")
              + " (cgroup " + e.getValue().name() + ")";
        }
      }
    }
    return Optional.ofNullable(found);
  }

  private Optional<Failure> step(String command, FailureCause cause, Path out, Path err) {
    try {
      Commands.Result result = Commands.run(command, argv(command, 0), releaseDir, env(null), out,
          err, settings.commandTimeout(), clock, p -> foreground = p);
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
      process = ProcessGroups.startInNewSession(argv(command, index), releaseDir,
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
      String why = code == ContainedCommand.JOIN_FAILED && cgroups.containsKey(index)
          ? " (it could not join cgroup " + cgroups.get(index).name() + ")" : "";
      return code == 0 ? Optional.empty() : Optional.of(new Failure(FailureCause.START_FAILED,
          "'" + command + "' (cluster " + index + ") exited " + code + " within the start watch"
              + why));
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
    env.put("INFRAVEIL_DEPLOYMENT", context.deployment());
    env.put("INFRAVEIL_HOST", context.hostName());
    // Commands of no one instance (preflight, postflight, a once-per-service check) see
    // cluster index 0's ports.
    ports.getOrDefault(clusterIndex == null ? 0 : clusterIndex, Map.of()).forEach(
        (name, port) -> env.put(io.infraveil.appconfig.PortSpec.envName(name),
            Integer.toString(port)));
    env.put("INFRAVEIL_RELEASE_DIR", releaseDir.toAbsolutePath().toString());
    if (clusterIndex != null) {
      env.put("INFRAVEIL_CLUSTER_INDEX", Integer.toString(clusterIndex));
    }
    if (!spec.env().containsKey("PM2_HOME")) {
      env.put("PM2_HOME", pm2Home(clusterIndex == null ? 0 : clusterIndex).toAbsolutePath()
          .toString());
    }
    return env;
  }

  /** The exit is handled on the thread the kernel wakes for it, no pool in between. */
  private void watchExit(Supervised p) {
    long gen = generation;
    ExitWatch.watch(p.identity(), "exit-" + spec.name() + "-" + p.clusterIndex(),
        () -> lane.executeHere(() -> processExited(gen, p)));
  }

  private void processExited(long gen, Supervised p) {
    if (gen != generation || state != ServiceState.RUNNING || stopping) {
      return;
    }
    ServiceCgroup group = cgroups.get(p.clusterIndex());
    if (group != null && group.populated()) {
      // The instance runs on in its cgroup (a slow `pm2 start` that finished after the start
      // watch, a wrapper that left its worker): watch the cgroup instead of this process.
      processes = processes.stream().filter(x -> x != p).toList();
      if (!watched.contains(p.clusterIndex())) {
        Set<Integer> more = new TreeSet<>(watched);
        more.add(p.clusterIndex());
        watched = Set.copyOf(more);
        startPolling();
      }
      changed();
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
      boolean processesLive = processes.stream().allMatch(this::instanceAlive)
          && watched.stream().allMatch(i -> cgroups.get(i).populated());
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

  /**
   * Runs the check; empty when healthy, else what was wrong. A service whose instances have
   * ports of their own (dynamic ports, several cluster indexes) is checked once per instance,
   * each run seeing that instance's {@code INFRAVEIL_CLUSTER_INDEX} and ports; otherwise once.
   */
  private Optional<String> check() {
    boolean perInstance = spec.clusters() > 1
        && spec.ports().stream().anyMatch(p -> p.fixed().isEmpty());
    if (!perInstance) {
      return checkOnce(null);
    }
    for (int index = 0; index < spec.clusters(); index++) {
      Optional<String> problem = checkOnce(index);
      if (problem.isPresent()) {
        return Optional.of("cluster " + index + ": " + problem.get());
      }
    }
    return Optional.empty();
  }

  private Optional<String> checkOnce(Integer clusterIndex) {
    HealthCheckSpec check = spec.healthcheck().orElseThrow();
    Path out = agentDir.resolve("run").resolve(spec.name() + ".check.out");
    Path err = agentDir.resolve("run").resolve(spec.name() + ".check.err");
    Optional<String> problem;
    try {
      Files.createDirectories(out.getParent());
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      Commands.Result result = Commands.run(check.cmd(), argv(check.cmd(), null), releaseDir,
          env(clusterIndex), out, err, check.timeout(), clock, p -> foreground = p);
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
  private void fail(FailureCause failure, String what) {
    Budget before = budget; // healthy since when, before this failure is known
    cancelTimer();
    cancelPoller();
    generation++;
    FailureCause cause = failure;
    String message = what;
    Optional<String> oom = takeOomKill();
    if (oom.isPresent()) {
      cause = FailureCause.OOM_KILLED;
      message = oom.get() + "; " + what;
    }
    if (cause != FailureCause.CHECK_FAILED && health != Health.UNHEALTHY) {
      health = Health.UNKNOWN;
    }
    reason = cause.name();
    lastFailure = cause.name() + ": " + message;
    // Decided when the failure is seen, so the event says what happens next.
    HealingDecision decision = policy.decide(before.spent(), before.healthySince(),
        clock.instant());
    if (decision.action() == HealingDecision.Action.HEAL && decision.delay().isZero()
        && !cgroups.isEmpty() && !stopping) {
      // The replacement joins its cgroup within milliseconds: start the kernel's wait for
      // that join now, beside the work before the fork (JoinPrimer).
      containment.primeJoin();
    }
    host.event(AgentEvent.Kind.SERVICE_UNHEALTHY, spec.name(), cause.name(), stopping ? message
        : message + "; " + describe(decision));
    host.deployFailure(spec.name(), cause, message);
    stopProcesses();
    if (stopping) {
      return;
    }
    budget = new Budget(decision.next(), Optional.empty());
    switch (decision.action()) {
      case GIVE_UP -> {
        state = ServiceState.FAILED;
        reason = decision.reason().name();
        host.event(AgentEvent.Kind.SERVICE_FAILED, spec.name(), decision.reason().name(),
            decision.restart() + " restarts did not help (none stayed healthy for "
                + policy.stablePeriod() + "); left stopped until a new version or an operator's"
                + " restart; last failure: " + message);
        changed();
      }
      case HEAL -> {
        state = ServiceState.HEALING;
        restartsTotal++;
        changed();
        long gen = generation;
        Runnable restart = () -> {
          if (gen == generation && state == ServiceState.HEALING) {
            attempt(true);
          }
        };
        if (decision.delay().isZero()) {
          lane.execute(restart); // next on this lane, on this thread: no timer in between
        } else {
          timer = scheduler.schedule(() -> lane.execute(restart), decision.delay().toMillis(),
              TimeUnit.MILLISECONDS);
        }
      }
      default -> throw new AssertionError("unexpected healing action " + decision.action());
    }
  }

  private String describe(HealingDecision decision) {
    return switch (decision.action()) {
      case HEAL -> "restart " + decision.restart() + " of " + policy.maxRestarts()
          + (decision.delay().isZero() ? " at once" : " in " + decision.delay().toMillis()
              + " ms") + " (" + decision.reason() + ")";
      case GIVE_UP -> "no restart left (" + decision.reason() + ")";
      default -> throw new AssertionError("unexpected healing action " + decision.action());
    };
  }


  /**
   * As systemd's KillMode=control-group: the stop signal to every process of every instance
   * cgroup at once, up to stop_timeout for all, then a kill of what is left; then the process
   * groups of the start commands (all that is used where there are no cgroups).
   */
  private void stopProcesses() {
    cancelPoller();
    List<ServiceCgroup> busy = cgroups.values().stream().filter(ServiceCgroup::populated)
        .toList();
    busy.forEach(g -> g.signalAll(spec.stopSignal()));
    long deadline = System.nanoTime() + spec.stopTimeout().toNanos();
    for (ServiceCgroup g : busy) {
      if (!g.awaitEmpty(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
        g.kill();
        if (!g.awaitEmpty(Duration.ofSeconds(5))) {
          LOG.log(System.Logger.Level.ERROR, "processes " + g.pids() + " of " + g.name()
              + " survived a kill");
        }
      }
    }
    for (Supervised p : processes) {
      ProcessGroups.stopGroup(p.identity(), spec.stopSignal(), spec.stopTimeout());
    }
    if (!processes.isEmpty() || !watched.isEmpty()) {
      processes = List.of();
      watched = Set.of();
      generation++;
    }
  }

  private void cancelPoller() {
    if (poller != null) {
      poller.cancel(false);
      poller = null;
    }
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void changed() {
    trackHealthy();
    publish();
    host.changed(this);
  }

  /** A healthy run starts when the service is RUNNING and HEALTHY and ends with either. */
  private void trackHealthy() {
    Budget current = budget;
    boolean healthyNow = state == ServiceState.RUNNING && health == Health.HEALTHY;
    if (healthyNow && current.healthySince().isEmpty()) {
      budget = new Budget(current.spent(), Optional.of(clock.instant()));
    } else if (!healthyNow && current.healthySince().isPresent()) {
      budget = new Budget(current.spent(), Optional.empty());
    }
  }

  private void publish() {
    Instant now = clock.instant();
    published = new AgentSnapshot.ServiceSnapshot(spec.name(), state, health,
        Optional.ofNullable(lastCheckAt), Optional.ofNullable(lastCheckLatency),
        budget.counted(policy, now), restartsTotal,
        processes.stream().map(p -> new AgentSnapshot.ProcessSnapshot(p.clusterIndex(),
            p.identity().pid(), p.identity().startedAt(), p.identity().startTicks())).toList(),
        reason, lastFailure, oomKills, spec.resources().memoryBytes().orElse(0),
        portSnapshots());
  }

  private List<AgentSnapshot.PortSnapshot> portSnapshots() {
    List<AgentSnapshot.PortSnapshot> list = new ArrayList<>();
    ports.forEach((index, named) -> named.forEach((name, port) ->
        list.add(new AgentSnapshot.PortSnapshot(name, index, port))));
    return list;
  }

  /** The service as saved for adoption (published view, safe from any thread). */
  AgentState.SavedService saved() {
    List<Supervised> current = processes;
    Budget spent = budget;
    return new AgentState.SavedService(published.state(), current.stream()
        .map(p -> new AgentState.SavedProcess(p.clusterIndex(), p.commandIndex(), p.identity()))
        .toList(), AgentState.SavedRestarts.of(policy.standing(spent.spent(),
            spent.healthySince(), clock.instant())), published.lastFailure(),
        List.copyOf(new TreeSet<>(watched)));
  }
}
