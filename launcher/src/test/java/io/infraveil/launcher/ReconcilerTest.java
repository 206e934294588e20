package io.infraveil.launcher;

import static io.infraveil.launcher.TestAgents.V1;
import static io.infraveil.launcher.TestAgents.V2;
import static io.infraveil.launcher.TestAgents.await;
import static io.infraveil.launcher.TestAgents.desired;
import static io.infraveil.launcher.TestAgents.web;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.fs.JsonFiles;
import io.infraveil.host.process.ProcessIdentity;
import io.infraveil.launcher.Reconciler.Step;
import io.infraveil.proto.v1.AgentState;
import io.infraveil.proto.v1.EventKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReconcilerTest {

  @TempDir Path data;
  TestAgents agents;
  ScheduledExecutorService scheduler;
  Reconciler reconciler;

  @BeforeEach
  void setUp() {
    agents = new TestAgents(data);
    scheduler = TestAgents.scheduler();
  }

  @AfterEach
  void tearDown() {
    if (reconciler != null) {
      reconciler.close(false); // starts nothing any more
    }
    scheduler.shutdownNow();
    if (reconciler != null) {
      TestAgents.killAll(reconciler.state());
    }
  }

  private Reconciler start(String agentBody, PayloadPrefetcher prefetcher, DesiredSnapshot desired)
      throws IOException, InterruptedException {
    reconciler = agents.reconciler(agents.agent(agentBody), new FileStateStore(data),
        CrashBudget.defaults(), prefetcher, scheduler);
    reconciler.acceptDesired(desired);
    reconciler.start();
    settle();
    return reconciler;
  }

  /** Reconciles and waits for the deployments' workers to finish what it handed them. */
  private void reconcileAndSettle() throws InterruptedException {
    reconciler.reconcile();
    settle();
  }

  private void settle() throws InterruptedException {
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(20)), "workers still busy");
  }

  /** The stand-in writes its start line after exec; wait for it before counting. */
  private void awaitStarts(int n) throws InterruptedException {
    TestAgents.await(n + " start lines", () -> {
      try {
        return agents.startLines().size() >= n;
      } catch (IOException e) {
        return false;
      }
    });
    Thread.sleep(100); // a further, unexpected start would show up here
  }

  /** Decision table for one deployment: desired entry × known record × liveness. */
  @ParameterizedTest
  @CsvSource({
      // desired, record, alive, expected
      "none, none, false, KEEP",
      "none, running-v1, true, STOP",
      "none, running-v1, false, FORGET",
      "none, idle, false, FORGET",
      "stop-v1, running-v1, true, STOP",
      "stop-v1, idle, false, KEEP",
      "v1, none, false, SPAWN",
      "v1, idle, false, SPAWN",
      "v1, running-v1, true, KEEP",
      "v1, running-v1, false, CRASHED",
      "v2, running-v1, true, RESTART",
      "v1gen2, running-v1, true, RESTART",
      "v1, suspended-v1, false, WAIT_SUSPENDED",
      "v2, suspended-v1, false, SPAWN",
      "v1, expired-suspension-v1, false, SPAWN"})
  void decidesOneStepPerDeployment(String desired, String record, boolean alive, Step expected) {
    Instant now = Instant.parse("2025-01-01T01:00:00Z");
    DesiredAgentSpec spec = switch (desired) {
      case "none" -> null;
      case "stop-v1" -> web(V1, 1, true);
      case "v1" -> web(V1, 1, false);
      case "v1gen2" -> web(V1, 2, false);
      case "v2" -> web(V2, 1, false);
      default -> throw new AssertionError(desired);
    };
    ProcessIdentity process = new ProcessIdentity(99, now.minusSeconds(60));
    AgentRecord base = AgentRecord.fresh("web");
    AgentRecord rec = switch (record) {
      case "none" -> null;
      case "idle" -> base;
      case "running-v1" -> base.withProcess(process, V1, 1, "MISSING");
      case "suspended-v1" -> base.withProcess(null, V1, 1, "")
          .withCrashHistory(List.of(), now.plusSeconds(1), 1, "CRASH_BUDGET_EXHAUSTED");
      case "expired-suspension-v1" -> base.withProcess(null, V1, 1, "")
          .withCrashHistory(List.of(), now, 1, "CRASH_BUDGET_EXHAUSTED");
      default -> throw new AssertionError(record);
    };
    assertEquals(expected, Reconciler.decide(spec, rec, alive, now));
  }

  /** A missing agent is spawned once, with desired.json written first and the contract args. */
  @Test
  void spawnsMissingAgentAfterWritingDesiredFile() throws Exception {
    start("exec sleep 1000", PayloadPrefetcher.AGENT_FETCHES, desired(1, web(V1, 1, false)));
    reconcileAndSettle();
    reconcileAndSettle();
    awaitStarts(1);

    assertEquals(List.of("start --data-dir " + data + " --deployment web"), agents.startLines());
    AgentDesiredFile written = JsonFiles.read(data.resolve("agents/web/desired.json"),
        AgentDesiredFile.class).orElseThrow();
    assertEquals(new AgentDesiredFile(1, "web", V1, 1, false, "cp.test:7443", false), written);
    AgentRecord record = reconciler.state().agents().get("web");
    assertTrue(record.process().isAlive());
    assertEquals(V1, record.payload());
    assertEquals("MISSING", record.lastReason());
    assertEquals(reconciler.state(), new FileStateStore(data).load().orElseThrow());
    assertEquals(AgentState.AGENT_STATE_RUNNING, reconciler.statuses().get(0).getState());
    assertTrue(Files.exists(data.resolve("agents/web/agent.out.log")));
  }

  /**
   * The agent command passes through the spawn-time adjustment at each spawn (the agents'
   * class-data archive is named from the first spawn after it exists).
   */
  @Test
  void eachSpawnAppliesTheSpawnTimeAdjustmentOfTheAgentCommand() throws Exception {
    java.util.concurrent.atomic.AtomicReference<String> extra =
        new java.util.concurrent.atomic.AtomicReference<>("--without-archive");
    reconciler = new Reconciler(new Reconciler.Settings(data, "cp.test:7443",
        agents.agent("exec sleep 1000"), Duration.ofSeconds(2), Duration.ofSeconds(1),
        Duration.ofHours(1)).withAgentCommandAtSpawn(command -> {
          List<String> out = new java.util.ArrayList<>(command);
          out.add(extra.get());
          return out;
        }), new FileStateStore(data), CrashBudget.defaults(), PayloadPrefetcher.AGENT_FETCHES,
        agents.clock, scheduler, agents.log);
    reconciler.acceptDesired(desired(1, web(V1, 1, false)));
    reconciler.start();
    settle();
    awaitStarts(1);

    extra.set("--with-archive");
    reconciler.acceptDesired(desired(2, web(V2, 1, false)));
    reconcileAndSettle();
    reconcileAndSettle();
    awaitStarts(2);

    assertEquals(List.of("start --without-archive --data-dir " + data + " --deployment web",
        "start --with-archive --data-dir " + data + " --deployment web"), agents.startLines());
  }

  /** The host's labels from the desired state reach the agent in desired.json. */
  @Test
  void hostLabelsReachTheAgentInDesiredFile() throws Exception {
    start("exec sleep 1000", PayloadPrefetcher.AGENT_FETCHES, new DesiredSnapshot(1,
        List.of(web(V1, 1, false)), Map.of("provider", "aws", "zone", "a")));
    reconcileAndSettle();
    reconcileAndSettle();
    awaitStarts(1);

    AgentDesiredFile written = JsonFiles.read(data.resolve("agents/web/desired.json"),
        AgentDesiredFile.class).orElseThrow();
    assertEquals(Map.of("provider", "aws", "zone", "a"), written.hostLabels());
    assertEquals(Map.of("provider", "aws", "zone", "a"),
        new FileStateStore(data).load().orElseThrow().desired().hostLabels());
  }

  /** A new generation stops the old agent and starts a new one; the old pid is gone. */
  @Test
  void newGenerationRestartsAgent() throws Exception {
    start("exec sleep 1000", PayloadPrefetcher.AGENT_FETCHES, desired(1, web(V1, 1, false)));
    ProcessIdentity first = reconciler.state().agents().get("web").process();

    assertTrue(reconciler.acceptDesired(desired(2, web(V1, 2, false))));
    reconcileAndSettle();

    ProcessIdentity second = reconciler.state().agents().get("web").process();
    assertNotEquals(first, second);
    assertFalse(first.isAlive());
    assertTrue(second.isAlive());
    awaitStarts(2);
    assertEquals(2, agents.startLines().size());
    assertEquals(2, reconciler.state().agents().get("web").generation());
    assertEquals(List.of(), reconciler.state().agents().get("web").crashes());
  }

  /** A stop flag stops the agent's group and counts no crash. */
  @Test
  void stopFlagStopsAgentWithoutCountingCrash() throws Exception {
    start("exec sleep 1000", PayloadPrefetcher.AGENT_FETCHES, desired(1, web(V1, 1, false)));
    ProcessIdentity first = reconciler.state().agents().get("web").process();

    reconciler.acceptDesired(desired(2, web(V1, 1, true)));
    reconcileAndSettle();
    Thread.sleep(100); // let the exit callback run its reconcile
    reconcileAndSettle();

    assertFalse(first.isAlive());
    awaitStarts(1);
    AgentRecord record = reconciler.state().agents().get("web");
    assertNull(record.process());
    assertEquals(List.of(), record.crashes());
    assertEquals("NOT_DESIRED", record.lastReason());
    assertEquals(1, agents.startLines().size());
    assertEquals(AgentState.AGENT_STATE_STOPPED, reconciler.statuses().get(0).getState());
  }

  /** An older revision is ignored: nothing persisted, nothing restarted. */
  @Test
  void olderRevisionIsIgnored() throws Exception {
    start("exec sleep 1000", PayloadPrefetcher.AGENT_FETCHES, desired(5, web(V1, 1, false)));
    assertFalse(reconciler.acceptDesired(desired(4, web(V2, 9, false))));
    assertFalse(reconciler.acceptDesired(desired(5, web(V2, 9, false))));
    reconcileAndSettle();
    awaitStarts(1);
    assertEquals(5, reconciler.heldRevision());
    assertEquals(V1, reconciler.state().agents().get("web").payload());
    assertEquals(1, agents.startLines().size());
  }

  /** A payload that cannot be cached starts nothing and is reported as rejected. */
  @Test
  void failedPrefetchStartsNothing() throws Exception {
    start("exec sleep 1000",
        (deployment, payload) -> PayloadPrefetcher.PrefetchResult.failed("PAYLOAD_REJECTED_HASH_MISMATCH"),
        desired(1, web(V1, 1, false)));
    assertEquals(List.of(), agents.startLines());
    assertFalse(Files.exists(data.resolve("agents/web/desired.json")));
    assertEquals("PAYLOAD_REJECTED_HASH_MISMATCH", reconciler.state().agents().get("web").lastReason());
    assertEquals(AgentState.AGENT_STATE_REJECTED, reconciler.statuses().get(0).getState());
    assertTrue(agents.logText().contains(
        "action=payload_not_cached deployment=web reason=PAYLOAD_REJECTED_HASH_MISMATCH"), agents.logText());
    // Reported once as a security-relevant event, not on every reconcile pass.
    reconcileAndSettle();
    var rejected = reconciler.drainEvents().stream()
        .filter(e -> e.getKind() == io.infraveil.proto.v1.EventKind.EVENT_KIND_PAYLOAD_REJECTED).toList();
    assertEquals(1, rejected.size(), rejected.toString());
    assertEquals("PAYLOAD_REJECTED_HASH_MISMATCH", rejected.get(0).getReason());
  }

  /**
   * Each rejected version is reported: a new version refused for the same reason as the one
   * before it is another security event, not a repeat of the first.
   */
  @Test
  void anotherVersionRejectedForTheSameReasonIsReportedToo() throws Exception {
    start("exec sleep 1000",
        (deployment, payload) -> PayloadPrefetcher.PrefetchResult.failed("PAYLOAD_REJECTED_HASH_MISMATCH"),
        desired(1, web(V1, 1, false)));
    reconciler.acceptDesired(desired(2, web(V2, 1, false)));
    reconcileAndSettle();
    agents.clock.advance(Duration.ofHours(1));
    reconcileAndSettle(); // V2 fetched and refused again: not a new event
    var rejected = reconciler.drainEvents().stream()
        .filter(e -> e.getKind() == EventKind.EVENT_KIND_PAYLOAD_REJECTED)
        .map(e -> e.getPayload().getSha256()).toList();
    assertEquals(List.of(V1.sha256(), V2.sha256()), rejected);
  }

  /**
   * A payload that could not be cached is fetched again on the next periodic pass, not by the
   * pass its own failure triggers: otherwise a payload every fetch refuses (altered on the way,
   * damaged at rest) is downloaded again back to back, for as long as it stays desired. A new
   * desired payload is fetched at once.
   */
  @Test
  void failedPrefetchIsRetriedOnThePeriodicPassNotInALoop() throws Exception {
    java.util.concurrent.atomic.AtomicInteger fetches = new java.util.concurrent.atomic.AtomicInteger();
    start("exec sleep 1000", (deployment, payload) -> {
      fetches.incrementAndGet();
      return PayloadPrefetcher.PrefetchResult.failed("PAYLOAD_REJECTED_HASH_MISMATCH");
    }, desired(1, web(V1, 1, false)));
    Thread.sleep(200); // each failure's own pass would have fetched again many times by now
    settle();
    assertEquals(1, fetches.get(), "fetched once, not again by the pass its failure triggered");
    reconcileAndSettle(); // a pass for another cause (an agent exit, a new report) soon after
    assertEquals(1, fetches.get());

    agents.clock.advance(Duration.ofMinutes(30)); // half the interval (1 h): the timer's pass
    reconcileAndSettle();
    assertEquals(2, fetches.get(), "fetched again on the periodic pass");

    reconciler.acceptDesired(desired(2, web(V2, 1, false)));
    reconcileAndSettle();
    assertEquals(3, fetches.get(), "a new desired payload is fetched at once");
    assertEquals(List.of(), agents.startLines());
  }

  /**
   * A crash-looping agent (exit 3) runs exactly 7 times (started, then 6 failed respawns), is
   * suspended for 1 min, tries again after the cooldown, and the next suspension lasts 2 min
   * (doubling). A new generation lifts it.
   */
  @Test
  void crashLoopSuspendsAfterSixFailedRespawnsAndCooldownDoubles() throws Exception {
    reconciler = agents.reconciler(agents.agent("exit 3"), new FileStateStore(data),
        new CrashBudget(Duration.ofSeconds(300), 6, Duration.ofMinutes(1), Duration.ofHours(1)),
        PayloadPrefetcher.AGENT_FETCHES, scheduler);
    reconciler.acceptDesired(desired(1, web(V1, 1, false)));
    Instant t0 = agents.clock.instant();
    reconciler.start();

    await("first suspension", () -> reconciler.state().agents().get("web") != null
        && reconciler.state().agents().get("web").suspendedUntil() != null);
    settle();
    Thread.sleep(200);
    reconcileAndSettle(); // still cooling down: nothing starts
    AgentRecord suspended = reconciler.state().agents().get("web");
    assertEquals(7, agents.startLines().size());
    assertEquals(t0.plus(Duration.ofMinutes(1)), suspended.suspendedUntil());
    assertEquals(1, suspended.suspensions());
    assertEquals("CRASH_BUDGET_EXHAUSTED", suspended.lastReason());
    assertEquals(AgentState.AGENT_STATE_SUSPENDED, reconciler.statuses().get(0).getState());
    List<EventKind> kinds = reconciler.drainEvents().stream().map(e -> e.getKind()).toList();
    assertEquals(List.of(EventKind.EVENT_KIND_AGENT_SUSPENDED), kinds);

    agents.clock.advance(Duration.ofMinutes(1));
    reconciler.reconcile();
    await("second suspension", () -> reconciler.state().agents().get("web").suspensions() == 2);
    AgentRecord again = reconciler.state().agents().get("web");
    settle();
    assertEquals(14, agents.startLines().size());
    assertEquals(t0.plus(Duration.ofMinutes(1)).plus(Duration.ofMinutes(2)), again.suspendedUntil());
    assertEquals(List.of(EventKind.EVENT_KIND_AGENT_RESUMED, EventKind.EVENT_KIND_AGENT_SUSPENDED),
        reconciler.drainEvents().stream().map(e -> e.getKind()).toList());

    reconciler.acceptDesired(desired(2, web(V1, 2, false)));
    reconciler.reconcile();
    await("third suspension", () -> reconciler.state().agents().get("web").suspensions() == 1
        && reconciler.state().agents().get("web").generation() == 2
        && reconciler.state().agents().get("web").suspendedUntil() != null);
    settle();
    assertEquals(21, agents.startLines().size());
    assertEquals("NEW_VERSION_LIFTS_SUSPENSION",
        reconciler.drainEvents().get(0).getReason());
  }

  /**
   * Every exit of a crash-looping agent wakes a reconcile pass, a finished spawn wakes one
   * more, and here a second thread runs passes without pause on top: however they interleave
   * with the spawns, each agent's exit is counted as exactly one crash, so the 7th crash (and
   * not an earlier, double-counted one) suspends.
   */
  @Test
  void extraPassesNeverCountACrashTwice() throws Exception {
    reconciler = agents.reconciler(agents.agent("exit 3"), new FileStateStore(data),
        CrashBudget.defaults(), PayloadPrefetcher.AGENT_FETCHES, scheduler);
    reconciler.acceptDesired(desired(1, web(V1, 1, false)));
    AtomicBoolean hammering = new AtomicBoolean(true);
    Thread hammer = new Thread(() -> {
      while (hammering.get()) {
        reconciler.reconcile();
        LockSupport.parkNanos(100_000); // let the workers have the lock too
      }
    }, "extra-passes");
    reconciler.start();
    hammer.start();
    try {
      await("suspension", () -> reconciler.state().agents().get("web") != null
          && reconciler.state().agents().get("web").suspendedUntil() != null);
    } finally {
      hammering.set(false);
      hammer.join(5_000);
    }
    settle();

    List<String> spawned = agents.pidsLogged("spawn");
    assertEquals(7, spawned.size(), agents.logText());
    assertEquals(spawned, agents.pidsLogged("crash"), agents.logText());
    assertEquals(7, agents.startLines().size());
    assertEquals(1, reconciler.state().agents().get("web").suspensions());
  }

  /**
   * An agent that crashes on a new payload (V2) is respawned on the last known good (V1) from
   * the first crash, V2 is held back (no restart loop, no suspension), and a later payload from
   * the control plane lifts the hold.
   */
  @Test
  void repeatedCrashesOnNewPayloadFallBackToLastKnownGood() throws Exception {
    reconciler = agents.reconciler(
        agents.agent("grep -q " + V2.sha256() + " desired.json && exit 3\nexec sleep 1000"),
        new FileStateStore(data), CrashBudget.defaults(), PayloadPrefetcher.AGENT_FETCHES,
        scheduler);
    reconciler.acceptDesired(desired(1, web(V1, 1, false)));
    reconciler.start();
    settle();
    Instant t0 = agents.clock.instant();
    // A run is measured from the agent's start as the OS reports it, which lies after the
    // fixture's clock reading by however long starting took (long under load): the window is
    // counted from whichever is later.
    Instant started = reconciler.state().agents().get("web").process().startedAt();
    agents.clock.set((started.isAfter(t0) ? started : t0).plus(Duration.ofSeconds(300)));
    reconcileAndSettle();
    assertEquals(V1, reconciler.state().agents().get("web").lastKnownGood());
    // Back to the wall clock: the crashing V2 agents must not look like a window-long run.
    agents.clock.set(t0.plusSeconds(1));

    reconciler.acceptDesired(desired(2, web(V2, 1, false)));
    reconciler.reconcile();
    try {
      await("fallback to V1", () -> {
        AgentRecord r = reconciler.state().agents().get("web");
        return r.heldBack() != null && r.process() != null && r.process().isAlive();
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\n" + agents.logText() + reconciler.state());
    }
    reconcileAndSettle();
    reconcileAndSettle();
    awaitStarts(3);

    AgentRecord held = reconciler.state().agents().get("web");
    assertEquals(3, agents.startLines().size(), "V1, one V2 crash, V1 again");
    assertEquals(V1, held.payload());
    assertEquals(V2, held.heldBack());
    assertEquals(1, held.generation());
    assertEquals(1, held.crashes().size());
    assertNull(held.suspendedUntil());
    assertEquals("CRASHES_FALL_BACK_TO_LAST_KNOWN_GOOD", held.lastReason());
    assertEquals(new AgentDesiredFile(1, "web", V1, 1, false, "cp.test:7443", true),
        JsonFiles.read(data.resolve("agents/web/desired.json"), AgentDesiredFile.class)
            .orElseThrow());
    assertEquals(Step.KEEP, Reconciler.decide(web(V2, 1, false), held, true,
        agents.clock.instant()));
    // The control plane reverting to what the fallback runs (an older generation) restarts
    // nothing; a restart asked for later (a newer generation) does.
    AgentRecord heldAtTwo = new AgentRecord(held.deployment(), held.process(), held.payload(), 2,
        held.crashes(), held.suspendedUntil(), held.suspensions(), held.lastKnownGood(),
        held.lastReason(), held.heldBack());
    assertEquals(Step.KEEP, Reconciler.decide(web(V1, 1, false), heldAtTwo, true, agents.clock.instant()));
    assertEquals(Step.RESTART, Reconciler.decide(web(V1, 3, false), heldAtTwo, true, agents.clock.instant()));
    assertEquals(Step.RESTART, Reconciler.decide(web(V1, 2, false), heldAtTwo, true, agents.clock.instant()));
    assertEquals(List.of(EventKind.EVENT_KIND_ROLLED_BACK),
        reconciler.drainEvents().stream().map(e -> e.getKind()).toList());
    assertEquals(held, new FileStateStore(data).load().orElseThrow().agents().get("web"));

    PayloadId v3 = new PayloadId("3".repeat(64), 30, 3, "v3");
    reconciler.acceptDesired(desired(3, web(v3, 1, false)));
    reconcileAndSettle();
    AgentRecord lifted = reconciler.state().agents().get("web");
    assertEquals(v3, lifted.payload());
    assertNull(lifted.heldBack());
    assertTrue(lifted.process().isAlive());
    assertFalse(held.process().isAlive());
    awaitStarts(4);
  }

  /** An operator's retry of a version marked bad reaches the agent through desired.json. */
  @Test
  void retryMarkedBadReachesTheAgentsDesiredFile() throws Exception {
    start("exec sleep 1000", PayloadPrefetcher.AGENT_FETCHES,
        desired(1, new DesiredAgentSpec("web", V2, 4, false, true)));
    awaitStarts(1);
    assertEquals(new AgentDesiredFile(1, "web", V2, 4, true, "cp.test:7443", false),
        JsonFiles.read(data.resolve("agents/web/desired.json"), AgentDesiredFile.class)
            .orElseThrow());
    assertTrue(DesiredAgentSpec.of(io.infraveil.proto.v1.DesiredAgent.newBuilder()
        .setDeployment("web").setPayload(V2.toProto()).setGeneration(4)
        .setRetryMarkedBad(true).build()).retryMarkedBad(), "read from the desired state");
  }
}
