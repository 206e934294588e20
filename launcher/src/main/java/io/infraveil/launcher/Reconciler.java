package io.infraveil.launcher;

import com.google.protobuf.Timestamp;
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
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the host's agents in line with the desired state. On a new desired state, an agent
 * exit and every {@code interval}: for each deployment in desired ∪ known, {@link #decide}
 * picks one {@link Step}, then {@link #reconcile} carries it out and persists the state after
 * every change. All public methods are synchronized: one reconcile runs at a time.
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

  /** Settings of the reconcile loop and of the agents it spawns. */
  public record Settings(Path dataDir, String controlPlane, List<String> agentCommand,
      Duration stopGrace, Duration interval) {
    public Settings {
      Objects.requireNonNull(dataDir, "dataDir");
      Objects.requireNonNull(controlPlane, "controlPlane");
      agentCommand = List.copyOf(agentCommand);
      if (agentCommand.isEmpty()) {
        throw new IllegalArgumentException("agent command is empty");
      }
      Objects.requireNonNull(stopGrace, "stopGrace");
      Objects.requireNonNull(interval, "interval");
    }

    /** The current JVM running {@code io.infraveil.agent.main.AgentMain} from this classpath. */
    public static List<String> defaultAgentCommand() {
      String java = ProcessHandle.current().info().command()
          .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      return List.of(java, "-cp", System.getProperty("java.class.path"),
          "io.infraveil.agent.main.AgentMain");
    }
  }

  private final Settings settings;
  private final StateStore store;
  private final CrashBudget budget;
  private final PayloadPrefetcher prefetcher;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final LauncherLog log;

  /** Guarded by {@code this}. */
  private LauncherState state = LauncherState.EMPTY;
  /** Guarded by {@code this}. */
  private final List<HostEvent> events = new ArrayList<>();
  /** Guarded by {@code this}. */
  private Runnable changeListener = () -> { };
  /** Guarded by {@code this}. */
  private ScheduledFuture<?> ticker;

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
      return differs ? Step.RESTART : Step.KEEP;
    }
    if (record != null && record.isSuspendedAt(now) && !differs) {
      return Step.WAIT_SUSPENDED;
    }
    return Step.SPAWN;
  }

  /**
   * Start-up: reads the saved state, adopts live agents whose pid and start time match, forgets
   * dead ones (the next reconcile respawns them), then reconciles (which stops strays) and
   * schedules the periodic reconcile.
   */
  public synchronized void start() {
    try {
      state = store.load().orElse(LauncherState.EMPTY);
    } catch (IOException e) {
      log.event("state_unreadable", "error", e.getMessage());
      state = LauncherState.EMPTY;
    }
    for (AgentRecord record : List.copyOf(state.agents().values())) {
      if (record.process() == null) {
        continue;
      }
      var handle = record.process().find();
      if (handle.isPresent()) {
        log.event("adopt", "deployment", record.deployment(), "pid", record.process().pid());
        watch(record.deployment(), handle.get());
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

  /** Stops the periodic reconcile. Agents keep running unless {@code stopAgents}. */
  public synchronized void close(boolean stopAgents) {
    if (ticker != null) {
      ticker.cancel(false);
    }
    if (stopAgents) {
      for (AgentRecord record : List.copyOf(state.agents().values())) {
        if (record.process() != null) {
          stopAgent(record, "LAUNCHER_EXIT");
        }
      }
      persist();
    }
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

  /** Runs one reconcile pass over desired ∪ known deployments. */
  public synchronized void reconcile() {
    LauncherState before = state;
    Instant now = clock.instant();
    TreeSet<String> names = new TreeSet<>(state.agents().keySet());
    state.desired().agents().forEach(a -> names.add(a.deployment()));
    for (String name : names) {
      DesiredAgentSpec desired = state.desired().agent(name).orElse(null);
      AgentRecord record = state.agents().get(name);
      boolean alive = record != null && record.process() != null && record.process().isAlive();
      Step step = decide(desired, record, alive, now);
      act(step, name, desired, record, now);
    }
    if (!state.equals(before)) {
      changeListener.run();
    }
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

  private void act(Step step, String name, DesiredAgentSpec desired, AgentRecord record,
      Instant now) {
    switch (step) {
      case KEEP -> markKnownGood(record, now);
      case WAIT_SUSPENDED -> { }
      case FORGET -> {
        state = state.withoutAgent(name);
        log.event("forget", "deployment", name);
        persist();
      }
      case STOP -> {
        stopAgent(record, "NOT_DESIRED");
        if (desired == null) {
          state = state.withoutAgent(name);
        }
        persist();
      }
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
          event(EventKind.EVENT_KIND_AGENT_RESUMED, name, desired.payload(), reason, now);
        }
        // The desired payload stays held back (the last known good runs) until it changes.
        spawn(current, desired, reason, current.heldBack() != null && !differs);
      }
      case RESTART -> {
        var fetched = prefetcher.ensureCached(name, desired.payload().toProto());
        if (!fetched.cached()) {
          rejectPayload(record, desired, fetched.reason());
          return;
        }
        stopAgent(record, "NEW_VERSION");
        AgentRecord cleared = state.agents().get(name)
            .withCrashHistory(List.of(), null, 0, "NEW_VERSION");
        spawn(cleared, desired, "NEW_VERSION", false);
      }
      case CRASHED -> onCrash(record, desired, now);
      default -> throw new AssertionError("unknown step " + step);
    }
  }

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
    log.event("crash", "deployment", record.deployment(), "pid", record.process().pid(),
        "crashes_in_window", crashes.size(), "decision", decision.action(),
        "reason", decision.reason(), "delay", decision.delay());
    switch (decision.action()) {
      case SUSPEND -> {
        Instant until = now.plus(decision.delay());
        state = state.withAgent(record.withoutProcess(decision.reason().name())
            .withCrashHistory(List.of(), until, carried + 1, decision.reason().name()));
        event(EventKind.EVENT_KIND_AGENT_SUSPENDED, record.deployment(), record.payload(),
            decision.reason().name(), now);
        persist();
      }
      case RESPAWN -> {
        AgentRecord crashed = record.withoutProcess(decision.reason().name())
            .withCrashHistory(crashes, null, carried, decision.reason().name());
        state = state.withAgent(crashed);
        persist();
        // A crash of the stand-in says nothing new about the held-back payload: keep it held.
        spawn(crashed, desired, decision.reason().name(), holdingBack);
      }
      case FALL_BACK -> {
        AgentRecord crashed = record.withoutProcess(decision.reason().name())
            .withCrashHistory(crashes, null, carried, decision.reason().name());
        state = state.withAgent(crashed);
        event(EventKind.EVENT_KIND_ROLLED_BACK, record.deployment(), record.lastKnownGood(),
            decision.reason().name(), now);
        persist();
        spawn(crashed, desired, decision.reason().name(), true);
      }
      case WAIT -> throw new AssertionError("a crash never decides WAIT");
      default -> throw new AssertionError("unknown action " + decision.action());
    }
  }

  /**
   * Starts an agent for {@code desired}, or with {@code fallback} for the record's last known
   * good payload standing in for it (same generation, no retry of marked-bad versions).
   */
  private void spawn(AgentRecord record, DesiredAgentSpec wanted, String reason,
      boolean fallback) {
    DesiredAgentSpec desired = fallback
        ? new DesiredAgentSpec(wanted.deployment(), record.lastKnownGood(), wanted.generation(),
            false, false)
        : wanted;
    String name = desired.deployment();
    var fetched = prefetcher.ensureCached(name, desired.payload().toProto());
    if (!fetched.cached()) {
      rejectPayload(record, desired, fetched.reason());
      return;
    }
    Path agentDir = AgentDesiredFile.agentDir(settings.dataDir(), name);
    try {
      AgentDesiredFile.of(desired, settings.controlPlane()).write(settings.dataDir());
      List<String> command = new ArrayList<>(settings.agentCommand());
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
      log.event("spawn", "deployment", name, "pid", identity.pid(), "generation",
          desired.generation(), "payload", desired.payload().sha256(), "reason", reason,
          "held_back", fallback ? wanted.payload().sha256() : "none");
      persist();
      watch(name, process.toHandle());
    } catch (IOException | RuntimeException e) {
      state = state.withAgent(record.withReason("SPAWN_FAILED"));
      log.event("spawn_failed", "deployment", name, "error", e.getMessage());
      persist();
    }
  }

  private void rejectPayload(AgentRecord record, DesiredAgentSpec desired, String why) {
    boolean firstTime = !why.equals(record.lastReason());
    state = state.withAgent(record.withReason(why));
    log.event("payload_not_cached", "deployment", record.deployment(), "reason", why);
    // A refused payload is a security event; report it once, not on every reconcile pass.
    if (firstTime && why.startsWith("PAYLOAD_REJECTED")) {
      event(EventKind.EVENT_KIND_PAYLOAD_REJECTED, record.deployment(), desired.payload(), why,
          clock.instant());
    }
    persist();
  }

  private void stopAgent(AgentRecord record, String reason) {
    // Forget first: the exit this causes is asked for, never counted as a crash.
    state = state.withAgent(record.withoutProcess(reason));
    persist();
    log.event("stop", "deployment", record.deployment(), "pid", record.process().pid(),
        "reason", reason);
    ProcessGroups.stopGroup(record.process(), "TERM", settings.stopGrace());
  }

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

  private void watch(String deployment, ProcessHandle handle) {
    handle.onExit().thenRun(() -> {
      try {
        scheduler.execute(this::reconcileQuietly);
      } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
        // The launcher is exiting; the next start adopts or respawns.
      }
    });
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
