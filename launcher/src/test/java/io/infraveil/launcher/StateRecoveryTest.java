package io.infraveil.launcher;

import static io.infraveil.launcher.TestAgents.V1;
import static io.infraveil.launcher.TestAgents.V2;
import static io.infraveil.launcher.TestAgents.await;
import static io.infraveil.launcher.TestAgents.desired;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.process.ProcessIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One agent per deployment even when the launcher's state file is lost: a first launcher runs
 * "web" (its stand-in agent writes the agent-lock line, pid and raw starttime, as the agent
 * contract says) and suspends the crash-looping "api"; it dies, its state file turns into
 * random bytes, and a second launcher over the same data dir must adopt the live web agent
 * (same pid, no second agent) and keep api's cooldown.
 */
class StateRecoveryTest {

  @TempDir Path data;
  final List<ScheduledExecutorService> schedulers = new ArrayList<>();
  final List<Reconciler> reconcilers = new ArrayList<>();
  TestAgents agents;
  List<String> command;

  @BeforeEach
  void setUp() throws IOException {
    agents = new TestAgents(data);
    command = agents.agent("case \"$*\" in *'--deployment api'*) exit 3;; esac\n"
        + "echo \"pid=$$ starttime=$(cut -d' ' -f22 /proc/$$/stat)\" > agent.lock\n"
        + "exec sleep 1000");
  }

  @AfterEach
  void tearDown() {
    reconcilers.forEach(r -> r.close(false)); // starts nothing any more
    schedulers.forEach(ScheduledExecutorService::shutdownNow);
    reconcilers.forEach(r -> TestAgents.killAll(r.state()));
  }

  private Reconciler launcher() {
    ScheduledExecutorService scheduler = TestAgents.scheduler();
    schedulers.add(scheduler);
    Reconciler reconciler = agents.reconciler(command, new FileStateStore(data),
        CrashBudget.defaults(), PayloadPrefetcher.AGENT_FETCHES, scheduler);
    reconcilers.add(reconciler);
    return reconciler;
  }

  private static void settle(Reconciler reconciler) throws InterruptedException {
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(20)), "workers still busy");
  }

  private long starts(String deployment) throws IOException {
    return agents.startLines().stream().filter(l -> l.endsWith("--deployment " + deployment))
        .count();
  }

  /** The first launcher: web runs and holds its lock, api is suspended; then it dies. */
  private LauncherState runFirstLauncherThenKillIt() throws Exception {
    Reconciler first = launcher();
    first.acceptDesired(desired(1, new DesiredAgentSpec("web", V1, 1, false, false),
        new DesiredAgentSpec("api", V2, 1, false, false)));
    first.start();
    await("api suspended", () -> first.state().agents().get("api") != null
        && first.state().agents().get("api").suspendedUntil() != null);
    await("web holds its lock", () -> AgentLockFile.liveHolder(
        data.resolve("agents/web")).isPresent());
    settle(first);
    schedulers.get(0).shutdownNow(); // gone without stopping anything, as after kill -9
    first.close(false);
    return first.state();
  }

  private void scramble(Path file) throws IOException {
    byte[] noise = new byte[512];
    new Random(7).nextBytes(noise);
    Files.write(file, noise);
  }

  private void assertWebAdopted(ProcessIdentity web, Reconciler second) throws Exception {
    settle(second);
    second.reconcile();
    settle(second);
    Thread.sleep(200); // a second web agent would show up as a start line here
    assertEquals(web, second.state().agents().get("web").process());
    assertTrue(web.isAlive());
    assertEquals(1, starts("web"), "one web agent, never a second: " + agents.startLines());
  }

  @Test
  void randomBytesInStateFileRecoverFromBackupAdoptLiveAgentAndKeepCooldown() throws Exception {
    LauncherState before = runFirstLauncherThenKillIt();
    ProcessIdentity web = before.agents().get("web").process();
    AgentRecord api = before.agents().get("api");
    assertEquals(7, starts("api"));
    scramble(data.resolve(FileStateStore.FILE));

    Reconciler second = launcher();
    second.start();

    assertWebAdopted(web, second);
    AgentRecord apiAfter = second.state().agents().get("api");
    assertEquals(api.suspendedUntil(), apiAfter.suspendedUntil(), "cooldown kept");
    assertEquals(1, apiAfter.suspensions());
    assertEquals(7, starts("api"), "still cooling down: not started again");
    assertEquals(1, second.heldRevision());
    assertTrue(agents.logText().contains("action=state_unreadable"), agents.logText());
    assertTrue(agents.logText().contains("recovered_from=BACKUP"), agents.logText());
    assertEquals(second.state(), new FileStateStore(data).load().orElseThrow(),
        "the recovered state is written back");
  }

  @Test
  void bothFilesUnreadableRebuildFromAgentLocksAndStartNothingElse() throws Exception {
    LauncherState before = runFirstLauncherThenKillIt();
    ProcessIdentity web = before.agents().get("web").process();
    scramble(data.resolve(FileStateStore.FILE));
    scramble(data.resolve(FileStateStore.BACKUP));

    Reconciler second = launcher();
    second.start();

    assertWebAdopted(web, second);
    assertEquals(V1, second.state().agents().get("web").payload());
    assertEquals("ADOPTED_FROM_AGENT_LOCK", second.state().agents().get("web").lastReason());
    assertNull(second.state().agents().get("api"), "no agent runs for api: wait for the"
        + " control plane rather than guess");
    assertEquals(7, starts("api"));
    assertEquals(0, second.heldRevision(), "any desired state from the control plane wins");
    assertTrue(agents.logText().contains("recovered_from=REBUILT_FROM_AGENT_DIRS"),
        agents.logText());
    // The control plane's next desired state is taken as is.
    assertTrue(second.acceptDesired(desired(1, new DesiredAgentSpec("web", V1, 1, false,
        false))));
    second.reconcile();
    settle(second);
    assertEquals(web, second.state().agents().get("web").process());
    assertEquals(1, starts("web"));
  }

  /** A readable but stale state naming a dead pid: the lock holder is the agent, adopted. */
  @Test
  void staleStateNamingDeadPidAdoptsTheLockHolder() throws Exception {
    LauncherState before = runFirstLauncherThenKillIt();
    ProcessIdentity web = before.agents().get("web").process();
    AgentRecord stale = before.agents().get("web").withProcess(
        new ProcessIdentity(web.pid(), Instant.parse("2001-01-01T00:00:00Z")), V1, 1, "MISSING");
    new FileStateStore(data).save(before.withAgent(stale));

    Reconciler second = launcher();
    second.start();

    assertWebAdopted(web, second);
    assertTrue(agents.logText().contains("action=adopt_from_lock deployment=web pid="
        + web.pid()), agents.logText());
    assertFalse(agents.logText().contains("action=forget_dead deployment=web"),
        agents.logText());
  }

  /**
   * An agent the launcher lost track of, holding the lock when a spawn is due, is adopted
   * instead of getting a second agent beside it (which could only exit for want of the lock).
   */
  @Test
  void spawnAdoptsAnAgentThatAlreadyHoldsTheLock() throws Exception {
    java.util.concurrent.CountDownLatch fetched = new java.util.concurrent.CountDownLatch(1);
    ScheduledExecutorService scheduler = TestAgents.scheduler();
    schedulers.add(scheduler);
    Reconciler launcher = agents.reconciler(command, new FileStateStore(data),
        CrashBudget.defaults(), (deployment, payload) -> {
          try {
            fetched.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return PayloadPrefetcher.PrefetchResult.ok();
        }, scheduler);
    reconcilers.add(launcher);
    DesiredAgentSpec web = new DesiredAgentSpec("web", V1, 1, false, false);
    launcher.acceptDesired(desired(1, web));
    launcher.start(); // web's spawn now waits for its payload

    // Meanwhile an agent for web appears that this launcher did not start.
    Path agentDir = data.resolve("agents/web");
    AgentDesiredFile.of(web, "cp.test:7443").write(data);
    List<String> stray = new ArrayList<>(command);
    stray.addAll(List.of("--data-dir", data.toString(), "--deployment", "web"));
    Process other = io.infraveil.host.process.ProcessGroups.startInNewSession(stray, agentDir,
        java.util.Map.of(), agentDir.resolve("other.out"), agentDir.resolve("other.err"));
    ProcessIdentity holder = ProcessIdentity.of(other.toHandle()).orElseThrow();
    await("the other agent holds the lock", () -> AgentLockFile.liveHolder(agentDir)
        .map(holder::equals).orElse(false));

    fetched.countDown();
    settle(launcher);
    launcher.reconcile();
    settle(launcher);
    Thread.sleep(200);

    assertEquals(holder, launcher.state().agents().get("web").process());
    assertEquals(1, starts("web"), "adopted, not doubled: " + agents.startLines());
    assertTrue(agents.logText().contains("action=adopt_from_lock deployment=web pid="
        + holder.pid()), agents.logText());
  }

  /**
   * The state names a live process as web's agent, but another one holds web's lock: the lock
   * holder is adopted and the other, a second supervisor, is killed (its group only).
   */
  @Test
  void secondSupervisorNamedByTheStateIsKilledAndTheLockHolderAdopted() throws Exception {
    LauncherState before = runFirstLauncherThenKillIt();
    ProcessIdentity holder = before.agents().get("web").process();
    Path agentDir = data.resolve("agents/web");
    Process other = io.infraveil.host.process.ProcessGroups.startInNewSession(
        List.of("sleep", "1000"), agentDir, java.util.Map.of(), agentDir.resolve("o.out"),
        agentDir.resolve("o.err"));
    ProcessIdentity second = ProcessIdentity.of(other.toHandle()).orElseThrow();
    new FileStateStore(data).save(before.withAgent(before.agents().get("web")
        .withProcess(second, V1, 1, "MISSING")));

    Reconciler launcher = launcher();
    launcher.start();

    assertWebAdopted(holder, launcher);
    assertTrue(other.waitFor(5, java.util.concurrent.TimeUnit.SECONDS), "second one killed");
    assertTrue(agents.logText().contains("action=kill_second_agent pid=" + second.pid()
        + " reason=ANOTHER_AGENT_HOLDS_LOCK"), agents.logText());
  }
}
