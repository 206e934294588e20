package io.infraveil.launcher;

import com.google.protobuf.Timestamp;
import io.infraveil.host.fs.JsonFiles;
import io.infraveil.host.jvm.HostJvmOptions;
import io.infraveil.host.payload.PayloadOrigin;
import io.infraveil.host.process.ProcessGroups;
import io.infraveil.host.process.ProcessIdentity;
import io.infraveil.proto.v1.AgentState;
import io.infraveil.proto.v1.AgentStatus;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.HostEvent;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the host's agents in line with the desired state. On a new desired state, an agent
 * exit and every {@code interval}: for each deployment in desired ∪ known that is not busy,
 * {@link #decide} picks one {@link Step}. Deciding, crash-budget decisions and state changes
 * are cheap and happen under this object's lock, persisted after every change; the slow acts
 * (fetch, stop with grace, spawn) run on the deployment's own serial worker
 * ({@link DeploymentWorkers}), so a stalled download or a slow stop of one deployment never
 * delays reports, crash handling or another deployment. While a deployment's worker runs,
 * its record belongs to that worker and reconciling leaves it alone.
 */
public final class Reconciler {

  /** What to do about one deployment. */
  public enum Step {
    /** Running what it should. */
    KEEP,
    /** Nothing runs and something should: fetch, write desired.json, spawn. */
    SPAWN,
    /** Runs another generation or payload: fetch, stop the old one, spawn. */
    RESTART,
    /** Runs and should not: SIGTERM the group, grace, SIGKILL, forget. */
    STOP,
    /** Not desired and not running: drop the record. */
    FORGET,
    /** The process we started exited without being asked to: the crash budget decides. */
    CRASHED,
    /** Suspended by the crash budget; the cooldown is not over. */
    WAIT_SUSPENDED
  }

  /**
   * Settings of the reconcile loop and of the agents it spawns. An agent asked to stop gets the
   * longest {@code stop_timeout} of its services plus {@code stopMargin} (services stop in
   * parallel), never less than {@code stopGrace}, before the launcher kills it and its services
   * ({@link AgentStopGrace}).
   */
  public record Settings(Path dataDir, String controlPlane, List<String> agentCommand,
      Duration stopGrace, Duration stopMargin, Duration interval,
      UnaryOperator<List<String>> agentCommandAtSpawn) {

    /** The default margin over the services' longest stop_timeout. */
    public static final Duration DEFAULT_STOP_MARGIN = Duration.ofSeconds(5);

    public Settings {
      Objects.requireNonNull(dataDir, "dataDir");
      Objects.requireNonNull(controlPlane, "controlPlane");
      agentCommand = List.copyOf(agentCommand);
      if (agentCommand.isEmpty()) {
        throw new IllegalArgumentException("agent command is empty");
      }
      Objects.requireNonNull(stopGrace, "stopGrace");
      Objects.requireNonNull(stopMargin, "stopMargin");
      Objects.requireNonNull(interval, "interval");
      Objects.requireNonNull(agentCommandAtSpawn, "agentCommandAtSpawn");
    }

    /** Spawning {@code agentCommand} as it is. */
    public Settings(Path dataDir, String controlPlane, List<String> agentCommand,
        Duration stopGrace, Duration stopMargin, Duration interval) {
      this(dataDir, controlPlane, agentCommand, stopGrace, stopMargin, interval,
          UnaryOperator.identity());
    }

    /**
     * As it is, with {@code atSpawn} applied to the agent command at each spawn (the agents'
     * class-data archive is named once it exists).
     */
    public Settings withAgentCommandAtSpawn(UnaryOperator<List<String>> atSpawn) {
      return new Settings(dataDir, controlPlane, agentCommand, stopGrace, stopMargin, interval,
          atSpawn);
    }

    public Settings(Path dataDir, String controlPlane, List<String> agentCommand,
        Duration stopGrace, Duration interval) {
      this(dataDir, controlPlane, agentCommand, stopGrace, DEFAULT_STOP_MARGIN, interval);
    }

    /**
     * The current JVM running {@code io.infraveil.agent.main.AgentMain} from this classpath,
     * with the agents' small-heap options ({@link HostJvmOptions#agent()}).
     */
    public static List<String> defaultAgentCommand() {
      String java = ProcessHandle.current().info().command()
          .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      List<String> command = new ArrayList<>();
      command.add(java);
      command.addAll(HostJvmOptions.agent());
      command.addAll(List.of("-cp", System.getProperty("java.class.path"),
          "io.infraveil.agent.main.AgentMain"));
      return List.copyOf(command);
    }
  }

  private final Settings settings;
  private final StateStore store;
  private final CrashBudget budget;
  private final PayloadPrefetcher prefetcher;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final LauncherLog log;
  private final DeploymentWorkers workers;
  private final AgentStopper stopper;
  private final AgentStopGrace stopGrace;

  /** Guarded by {@code this}. */
  private LauncherState state = LauncherState.EMPTY;
  /** Guarded by {@code this}; once set, no agent is started any more. */
  private boolean closing;
  /** Guarded by {@code this}. */
  private final List<HostEvent> events = new ArrayList<>();
  /** Guarded by {@code this}. */
  private Runnable changeListener = () -> { };
  /** Guarded by {@code this}. */
  private ScheduledFuture<?> ticker;
  /**
   * Guarded by {@code this}: per deployment, the desired entry whose payload could not be
   * cached last, and when. Not persisted: a restarted launcher tries once at start.
   */
  private final Map<String, FailedFetch> failedFetches = new HashMap<>();

  /** A desired entry whose payload was not cached (rejected or unavailable) at {@code at}. */
  private record FailedFetch(DesiredAgentSpec desired, Instant at) {}

  public Reconciler(Settings settings, StateStore store, CrashBudget budget,
      PayloadPrefetcher prefetcher, Clock clock, ScheduledExecutorService scheduler,
      LauncherLog log) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.store = Objects.requireNonNull(store, "store");
    this.budget = Objects.requireNonNull(budget, "budget");
    this.prefetcher = Objects.requireNonNull(prefetcher, "prefetcher");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.log = Objects.requireNonNull(log, "log");
    this.workers = new DeploymentWorkers(done -> reconcileSoon());
    this.stopper = new AgentStopper(settings.dataDir());
    this.stopGrace = new AgentStopGrace(settings.stopGrace(), settings.stopMargin());
  }

  /** Pure: the step for one deployment given what is desired, what is known and liveness. */
  static Step decide(DesiredAgentSpec desired, AgentRecord record, boolean alive, Instant now) {
    boolean wanted = desired != null && !desired.stop();
    boolean tracked = record != null && record.process() != null;
    if (!wanted) {
      if (tracked && alive) {
        return Step.STOP;
      }
      return record == null ? Step.KEEP : (desired == null ? Step.FORGET
          : tracked ? Step.FORGET : Step.KEEP);
    }
    if (tracked && !alive) {
      return Step.CRASHED;
    }
    boolean differs = record == null || record.payload() == null
        || !record.servesDesired(desired.payload(), desired.generation());
    if (tracked) {
      return differs && !revertedToWhatRuns(desired, record) ? Step.RESTART : Step.KEEP;
    }
    if (record != null && record.isSuspendedAt(now) && !differs) {
      return Step.WAIT_SUSPENDED;
    }
    return Step.SPAWN;
  }

  /**
   * The control plane reverted the deployment to the version this host already fell back to:
   * the payload the fallback runs, with an older generation than the one held back. Nothing to
   * restart. A newer generation (a restart asked for later) still restarts.
   */
  private static boolean revertedToWhatRuns(DesiredAgentSpec desired, AgentRecord record) {
    return record.heldBack() != null && desired.payload().equals(record.payload())
        && desired.generation() < record.generation();
  }

  /**
   * Start-up: recovers the saved state ({@link StateRecovery}: the state file, else its backup,
   * else the agent dirs; live lock holders adopted), adopts live agents whose pid and start time
   * match, forgets dead ones (the next reconcile respawns them), then reconciles (which stops
   * strays) and schedules the periodic reconcile.
   */
  public synchronized void start() {
    StateRecovery.Recovered recovered = new StateRecovery(store, settings.dataDir()).recover();
    if (!recovered.problems().isEmpty()) {
      log.event("state_unreadable", "error", String.join("; ", recovered.problems()),
          "recovered_from", recovered.source());
    }
    state = recovered.state();
    for (String name : recovered.adoptedFromLocks()) {
      log.event("adopt_from_lock", "deployment", name, "pid",
          state.agents().get(name).process().pid());
    }
    for (ProcessIdentity second : recovered.displaced()) {
      log.event("kill_second_agent", "pid", second.pid(), "reason", "ANOTHER_AGENT_HOLDS_LOCK");
      ProcessGroups.stopGroup(second, "KILL", Duration.ofSeconds(5));
    }
    for (AgentRecord record : List.copyOf(state.agents().values())) {
      if (record.process() == null) {
        continue;
      }
      var handle = record.process().find();
      if (handle.isPresent()) {
        log.event("adopt", "deployment", record.deployment(), "pid", record.process().pid());
        watch(handle.get());
      } else {
        log.event("forget_dead", "deployment", record.deployment(), "pid", record.process().pid());
        state = state.withAgent(record.withoutProcess("FOUND_DEAD_ON_START"));
      }
    }
    persist();
    reconcile();
    long millis = settings.interval().toMillis();
    ticker = scheduler.scheduleWithFixedDelay(this::reconcileQuietly, millis, millis,
        TimeUnit.MILLISECONDS);
  }

  /**
   * Stops the periodic reconcile and starts no agent any more. Agents keep running unless
   * {@code stopAgents}: then every agent is stopped in parallel on the full stop path (its own
   * stop within the grace, then its group and its recorded services killed), and this returns
   * once they are all gone.
   */
  public void close(boolean stopAgents) {
    List<AgentRecord> running;
    synchronized (this) {
      closing = true;
      if (ticker != null) {
        ticker.cancel(false);
      }
      running = state.agents().values().stream().filter(r -> r.process() != null).toList();
    }
    if (stopAgents) {
      List<Thread> stops = new ArrayList<>();
      for (AgentRecord record : running) {
        Thread stop = new Thread(() -> stopNow(record, "LAUNCHER_EXIT"),
            "stop-" + record.deployment());
        stop.start();
        stops.add(stop);
      }
      Duration longest = running.stream().map(this::graceFor).max(Duration::compareTo)
          .orElse(Duration.ZERO);
      long deadline = System.nanoTime() + longest.plusSeconds(15).toNanos();
      for (Thread stop : stops) {
        try {
          stop.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    workers.close();
  }

  /** The desired-state revision held on disk. */
  public synchronized long heldRevision() {
    return state.desired().revision();
  }

  /**
   * Persists a newer desired state. Returns normally only once it is on disk, so the caller may
   * ack it; an older or equal revision is ignored (returns false).
   */
  public synchronized boolean acceptDesired(DesiredSnapshot desired) throws IOException {
    if (desired.revision() <= state.desired().revision()) {
      return false;
    }
    LauncherState next = state.withDesired(desired);
    store.save(next);
    state = next;
    log.event("desired_accepted", "revision", desired.revision(), "agents", desired.agents().size());
    return true;
  }

  public synchronized void setChangeListener(Runnable listener) {
    this.changeListener = Objects.requireNonNull(listener, "listener");
  }

  /** A snapshot of the state (for tests and reports). */
  public synchronized LauncherState state() {
    return state;
  }

  /**
   * Runs one reconcile pass over desired ∪ known deployments: decides for each one whose
   * worker is idle and hands the slow acts to that worker. Returns without waiting for them.
   */
  public synchronized void reconcile() {
    LauncherState before = state;
    Instant now = clock.instant();
    TreeSet<String> names = new TreeSet<>(state.agents().keySet());
    state.desired().agents().forEach(a -> names.add(a.deployment()));
    for (String name : names) {
      if (workers.isBusy(name)) {
        continue; // its worker owns the record until it is done, then reconciles again
      }
      DesiredAgentSpec desired = state.desired().agent(name).orElse(null);
      AgentRecord record = state.agents().get(name);
      boolean alive = record != null && record.process() != null && record.process().isAlive();
      Step step = decide(desired, record, alive, now);
      if ((step == Step.SPAWN || step == Step.RESTART) && fetchRetryNotDue(name, desired, now)) {
        continue;
      }
      act(step, name, desired, record, now);
    }
    if (!state.equals(before)) {
      changeListener.run();
    }
  }

  /**
   * Under the lock: a payload that just failed to cache is fetched again on the timer's next
   * pass, not by the pass its own failure triggers (the worker's end reconciles at once), or a
   * payload every fetch refuses would be downloaded back to back. Half the interval, so the
   * timer's next pass is due even after a quick failure. A new desired entry is always due.
   */
  private boolean fetchRetryNotDue(String name, DesiredAgentSpec desired, Instant now) {
    FailedFetch failed = failedFetches.get(name);
    if (failed == null || !failed.desired().equals(desired)) {
      return false;
    }
    Duration since = Duration.between(failed.at(), now);
    return !since.isNegative() && since.compareTo(settings.interval().dividedBy(2)) < 0;
  }

  /** Waits until no deployment's worker is busy (tests, shutdown); false on timeout. */
  boolean awaitIdle(Duration timeout) throws InterruptedException {
    return workers.awaitIdle(timeout);
  }

  /** Statuses of every known agent, for a HostReport. */
  public synchronized List<AgentStatus> statuses() {
    Instant now = clock.instant();
    List<AgentStatus> out = new ArrayList<>();
    for (AgentRecord record : state.agents().values()) {
      AgentStatus.Builder status = AgentStatus.newBuilder()
          .setDeployment(record.deployment())
          .setGeneration(record.generation())
          .setState(stateOf(record, now))
          .setCrashesInWindow(budget.prune(record.crashes(), now).size())
          .setReason(record.lastReason());
      if (record.payload() != null) {
        status.setPayload(record.payload().toProto());
      }
      if (record.process() != null) {
        status.setPid(record.process().pid()).setStartedAt(timestamp(record.process().startedAt()));
      }
      if (record.isSuspendedAt(now)) {
        status.setSuspendedUntil(timestamp(record.suspendedUntil()));
      }
      out.add(status.build());
    }
    return out;
  }

  /** Events since the last call (suspensions, resumptions). */
  public synchronized List<HostEvent> drainEvents() {
    List<HostEvent> out = List.copyOf(events);
    events.clear();
    return out;
  }

  private AgentState stateOf(AgentRecord record, Instant now) {
    DesiredAgentSpec desired = state.desired().agent(record.deployment()).orElse(null);
    if (record.process() != null && record.process().isAlive()) {
      return AgentState.AGENT_STATE_RUNNING;
    }
    if (record.isSuspendedAt(now)) {
      return AgentState.AGENT_STATE_SUSPENDED;
    }
    if (desired == null || desired.stop()) {
      return AgentState.AGENT_STATE_STOPPED;
    }
    if (record.lastReason().startsWith("PAYLOAD")) {
      return AgentState.AGENT_STATE_REJECTED;
    }
    return AgentState.AGENT_STATE_CRASHED;
  }

  /** Under the lock: cheap bookkeeping here, anything slow handed to the worker. */
  private void act(Step step, String name, DesiredAgentSpec desired, AgentRecord record,
      Instant now) {
    switch (step) {
      case KEEP -> markKnownGood(record, now);
      case WAIT_SUSPENDED -> { }
      // The agent is gone (SIGKILLed, found dead at start, suspended) but what it started may
      // not be: stop that first, then forget, or it would run on with nobody to stop it.
      case FORGET -> onWorker(name, () -> forget(record));
      case STOP -> onWorker(name, () -> stopNow(record, "NOT_DESIRED"));
      case SPAWN -> {
        AgentRecord current = record == null ? AgentRecord.fresh(name) : record;
        String reason = "MISSING";
        boolean differs = !current.servesDesired(desired.payload(), desired.generation());
        if (current.suspendedUntil() != null) {
          CrashBudget.Decision decision = budget.whileSuspended(current.suspendedUntil(), differs, now);
          reason = decision.reason().name();
          current = current.withCrashHistory(
              differs ? List.of() : current.crashes(), null,
              differs ? 0 : current.suspensions(), reason);
          state = state.withAgent(current);
          persist();
          event(EventKind.EVENT_KIND_AGENT_RESUMED, name, desired.payload(), reason, now);
        }
        // The desired payload stays held back (the last known good runs) until it changes.
        boolean fallback = current.heldBack() != null && !differs;
        AgentRecord owned = current;
        String why = reason;
        onWorker(name, () -> spawn(owned, desired, why, fallback));
      }
      case RESTART -> onWorker(name, () -> restart(record, desired));
      case CRASHED -> onCrash(record, desired, now);
      default -> throw new AssertionError("unknown step " + step);
    }
  }

  /** Under the lock: the crash budget decides at once; respawn or clean-up go to the worker. */
  private void onCrash(AgentRecord record, DesiredAgentSpec desired, Instant now) {
    Duration ranFor = Duration.between(record.process().startedAt(), now);
    int carried = budget.suspensionsCarried(record.suspensions(), ranFor);
    boolean holdingBack = record.heldBack() != null
        && record.servesDesired(desired.payload(), desired.generation());
    boolean canFallBack = !holdingBack && record.lastKnownGood() != null
        && !record.lastKnownGood().equals(desired.payload());
    CrashBudget.Decision decision = budget.onCrash(record.crashes(), carried, canFallBack, now);
    List<Instant> crashes = new ArrayList<>(budget.prune(record.crashes(), now));
    crashes.add(now);
    String name = record.deployment();
    String reason = decision.reason().name();
    log.event("crash", "deployment", name, "pid", record.process().pid(),
        "crashes_in_window", crashes.size(), "decision", decision.action(),
        "reason", reason, "delay", decision.delay());
    switch (decision.action()) {
      case SUSPEND -> {
        Instant until = now.plus(decision.delay());
        state = state.withAgent(record.withoutProcess(reason)
            .withCrashHistory(List.of(), until, carried + 1, reason));
        event(EventKind.EVENT_KIND_AGENT_SUSPENDED, name, record.payload(), reason, now);
        persist();
        // Nobody supervises the services of a suspended agent: stop them rather than leave
        // them running unwatched until the cooldown is over.
        ProcessIdentity deadAgent = record.process();
        onWorker(name, () -> {
          AgentStopper.ServicesOutcome stopped =
              stopper.stopServices(name, deadAgent, graceFor(record));
          log.event("suspended_services_stopped", "deployment", name, "pids",
              stopped.recordedStopped(), "cgroups", stopped.cgroups().cgroups(),
              "cgroups_killed", stopped.cgroups().killed(),
              "cgroups_left", stopped.cgroups().leftOver());
        });
      }
      case RESPAWN -> {
        AgentRecord crashed = record.withoutProcess(reason)
            .withCrashHistory(crashes, null, carried, reason);
        state = state.withAgent(crashed);
        persist();
        // A crash of the stand-in says nothing new about the held-back payload: keep it held.
        onWorker(name, () -> spawn(crashed, desired, reason, holdingBack));
      }
      case FALL_BACK -> {
        AgentRecord crashed = record.withoutProcess(reason)
            .withCrashHistory(crashes, null, carried, reason);
        state = state.withAgent(crashed);
        event(EventKind.EVENT_KIND_ROLLED_BACK, name, record.lastKnownGood(), reason, now);
        persist();
        onWorker(name, () -> spawn(crashed, desired, reason, true));
      }
      case WAIT -> throw new AssertionError("a crash never decides WAIT");
      default -> throw new AssertionError("unknown action " + decision.action());
    }
  }

  private void onWorker(String name, Runnable task) {
    workers.submit(name, () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        log.event("worker_failed", "deployment", name, "error", e.toString());
      }
    });
  }

  /**
   * Worker: stops what a dead agent's deployment left (recorded services, its cgroups), then
   * drops the record if the deployment is still not wanted.
   */
  private void forget(AgentRecord record) {
    String name = record.deployment();
    AgentStopper.ServicesOutcome stopped =
        stopper.stopServices(name, record.process(), graceFor(record));
    synchronized (this) {
      DesiredAgentSpec now = state.desired().agent(name).orElse(null);
      AgentRecord current = state.agents().get(name);
      if (current == null || (now != null && !now.stop())
          || (current.process() != null && current.process().isAlive())) {
        return; // wanted again, or an agent runs: the next pass decides
      }
      state = state.withoutAgent(name);
      log.event("forget", "deployment", name, "pids", stopped.recordedStopped(),
          "cgroups_killed", stopped.cgroups().killed(),
          "cgroups_left", stopped.cgroups().leftOver());
      persist();
    }
  }

  /** Worker: fetch the new version, then stop the old agent and start the new one. */
  private void restart(AgentRecord record, DesiredAgentSpec desired) {
    String name = record.deployment();
    var fetched = prefetcher.ensureCached(name, desired.payload().toProto());
    synchronized (this) {
      if (!fetched.cached()) {
        rejectPayload(state.agents().get(name), desired, fetched.reason());
        return;
      }
      if (closing || !desired.equals(state.desired().agent(name).orElse(null))) {
        return; // changed while fetching: the next pass decides again
      }
    }
    handOverNow(record);
    AgentRecord cleared;
    synchronized (this) {
      cleared = state.agents().get(name).withCrashHistory(List.of(), null, 0, "NEW_VERSION");
      state = state.withAgent(cleared);
      persist();
    }
    spawn(cleared, desired, "NEW_VERSION", false);
  }

  /**
   * Worker: starts an agent for {@code wanted}, or with {@code fallback} for the record's last
   * known good payload standing in for it (same generation, no retry of marked-bad versions).
   * The fetch runs without the lock; desired.json and the process start under it, so a
   * launcher that is closing starts nothing.
   */
  private void spawn(AgentRecord record, DesiredAgentSpec wanted, String reason,
      boolean fallback) {
    DesiredAgentSpec desired = fallback
        ? new DesiredAgentSpec(wanted.deployment(), record.lastKnownGood(), wanted.generation(),
            false, false)
        : wanted;
    String name = desired.deployment();
    // The last known good standing in is this host's own choice, not a replay by the control
    // plane: with pinned publisher keys its older sequence is accepted (it was before).
    PayloadOrigin origin = fallback ? PayloadOrigin.LAUNCHER_FALLBACK
        : PayloadOrigin.CONTROL_PLANE;
    var fetched = prefetcher.ensureCached(name, desired.payload().toProto(), origin);
    synchronized (this) {
      if (!fetched.cached()) {
        rejectPayload(record, desired, fetched.reason());
        return;
      }
      if (closing) {
        return;
      }
      Path agentDir = AgentDesiredFile.agentDir(settings.dataDir(), name);
      if (adoptLockHolder(record, agentDir)) {
        return;
      }
      try {
        AgentDesiredFile.of(desired, settings.controlPlane(), fallback,
            state.desired().hostLabels()).write(settings.dataDir());
        List<String> command = new ArrayList<>(
            settings.agentCommandAtSpawn().apply(settings.agentCommand()));
        command.addAll(List.of("--data-dir", settings.dataDir().toString(), "--deployment", name));
        Process process = ProcessGroups.startInNewSession(command, agentDir, Map.of(),
            agentDir.resolve("agent.out.log"), agentDir.resolve("agent.err.log"));
        // An agent that exits at once has no start time left to read: record the spawn time so
        // the identity matches nothing and the next pass counts the exit as a crash.
        ProcessIdentity identity = ProcessIdentity.of(process.toHandle())
            .orElseGet(() -> new ProcessIdentity(process.pid(), clock.instant()));
        state = state.withAgent(fallback
            ? record.withFallbackProcess(identity, wanted.payload(), wanted.generation(), reason)
            : record.withProcess(identity, desired.payload(), desired.generation(), reason));
        failedFetches.remove(name);
        log.event("spawn", "deployment", name, "pid", identity.pid(), "generation",
            desired.generation(), "payload", desired.payload().sha256(), "reason", reason,
            "held_back", fallback ? wanted.payload().sha256() : "none");
        persist();
        watch(process.toHandle());
      } catch (IOException | RuntimeException e) {
        state = state.withAgent(record.withReason("SPAWN_FAILED"));
        log.event("spawn_failed", "deployment", name, "error", e.getMessage());
        persist();
      }
    }
  }

  /**
   * Under the lock, before a spawn: an agent that already holds the deployment's lock (one this
   * launcher lost track of) is adopted instead of starting a second one beside it, which would
   * only exit for want of the lock. Its desired.json, not yet overwritten, says what it runs;
   * the next pass restarts it if that is not what is desired.
   */
  private boolean adoptLockHolder(AgentRecord record, Path agentDir) {
    Optional<ProcessIdentity> holder = AgentLockFile.liveHolder(agentDir);
    if (holder.isEmpty() || holder.get().equals(record.process())) {
      return false;
    }
    Optional<AgentDesiredFile> running;
    try {
      running = JsonFiles.read(agentDir.resolve(AgentDesiredFile.FILE), AgentDesiredFile.class);
    } catch (IOException | RuntimeException unreadable) {
      running = Optional.empty();
    }
    if (running.isEmpty()) {
      return false;
    }
    state = state.withAgent(record.withProcess(holder.get(), running.get().payload(),
        running.get().generation(), "ADOPTED_FROM_AGENT_LOCK"));
    log.event("adopt_from_lock", "deployment", record.deployment(), "pid", holder.get().pid());
    persist();
    holder.get().find().ifPresent(this::watch);
    return true;
  }

  /** Under the lock. */
  private void rejectPayload(AgentRecord record, DesiredAgentSpec desired, String why) {
    FailedFetch previous = failedFetches.put(record.deployment(),
        new FailedFetch(desired, clock.instant()));
    // Once per version and reason: another version refused for the same reason is news.
    boolean firstTime = !why.equals(record.lastReason()) || previous == null
        || !previous.desired().payload().equals(desired.payload());
    state = state.withAgent(record.withReason(why));
    log.event("payload_not_cached", "deployment", record.deployment(), "reason", why);
    // A refused payload is a security event; report it once, not on every reconcile pass.
    if (firstTime && why.startsWith("PAYLOAD_REJECTED")) {
      event(EventKind.EVENT_KIND_PAYLOAD_REJECTED, record.deployment(), desired.payload(), why,
          clock.instant());
    }
    persist();
  }

  /**
   * Worker (or shutdown): stops the agent on the full stop path and only then updates the
   * record, so a launcher that dies half-way still knows the agent and stops it next time.
   * The record is dropped when the deployment is no longer desired at all.
   */
  private void stopNow(AgentRecord record, String reason) {
    String name = record.deployment();
    Duration grace = graceFor(record);
    log.event("stop", "deployment", name, "pid", record.process().pid(), "reason", reason,
        "grace", grace);
    AgentStopper.Outcome outcome = stopper.stop(name, record.process(), grace);
    if (outcome.forced()) {
      log.event("stop_forced", "deployment", name, "agent_exited_in_time",
          outcome.agentExitedInTime(), "services_killed", outcome.servicesKilled(),
          "cgroups_killed", outcome.cgroups().killed(),
          "cgroups_left", outcome.cgroups().leftOver());
    }
    synchronized (this) {
      AgentRecord current = state.agents().get(name);
      if (current == null) {
        return;
      }
      boolean undesired = state.desired().agent(name).isEmpty();
      state = undesired && !"NEW_VERSION".equals(reason) && !"LAUNCHER_EXIT".equals(reason)
          ? state.withoutAgent(name)
          : state.withAgent(current.withoutProcess(reason));
      persist();
    }
  }

  /**
   * Worker: replaces the agent for a new version or generation without stopping its services;
   * the next agent takes them over (agent README, "Handover"). The record loses its process.
   */
  private void handOverNow(AgentRecord record) {
    String name = record.deployment();
    Duration grace = graceFor(record);
    log.event("hand_over", "deployment", name, "pid", record.process().pid(), "grace", grace);
    if (!stopper.handOver(name, record.process(), grace)) {
      log.event("hand_over_forced", "deployment", name, "agent_exited_in_time", false);
    }
    synchronized (this) {
      AgentRecord current = state.agents().get(name);
      if (current != null) {
        state = state.withAgent(current.withoutProcess("NEW_VERSION"));
        persist();
      }
    }
  }

  private Duration graceFor(AgentRecord record) {
    return stopGrace.forAgent(AgentDesiredFile.agentDir(settings.dataDir(), record.deployment()),
        record.payload());
  }

  /** Under the lock. */
  private void markKnownGood(AgentRecord record, Instant now) {
    if (record == null || record.process() == null || record.payload() == null
        || record.payload().equals(record.lastKnownGood())) {
      return;
    }
    if (Duration.between(record.process().startedAt(), now).compareTo(budget.window()) >= 0) {
      state = state.withAgent(record.withLastKnownGood(record.payload()));
      persist();
    }
  }

  private void watch(ProcessHandle handle) {
    handle.onExit().thenRun(this::reconcileSoon);
  }

  private void reconcileSoon() {
    try {
      scheduler.execute(this::reconcileQuietly);
    } catch (RejectedExecutionException shuttingDown) {
      // The launcher is exiting; the next start adopts or respawns.
    }
  }

  private void reconcileQuietly() {
    try {
      reconcile();
    } catch (RuntimeException e) {
      log.event("reconcile_failed", "error", e.toString());
    }
  }

  private void persist() {
    try {
      store.save(state);
    } catch (IOException e) {
      log.event("persist_failed", "error", e.getMessage());
    }
  }

  private void event(EventKind kind, String deployment, PayloadId payload, String reason,
      Instant now) {
    HostEvent.Builder event = HostEvent.newBuilder().setAt(timestamp(now)).setKind(kind)
        .setDeployment(deployment).setReason(reason);
    if (payload != null) {
      event.setPayload(payload.toProto());
    }
    events.add(event.build());
  }

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano()).build();
  }
}
