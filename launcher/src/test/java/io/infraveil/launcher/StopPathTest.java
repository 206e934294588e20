package io.infraveil.launcher;

import static io.infraveil.launcher.TestAgents.V1;
import static io.infraveil.launcher.TestAgents.await;
import static io.infraveil.launcher.TestAgents.desired;
import static io.infraveil.launcher.TestAgents.web;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.infraveil.host.fs.JsonFiles;
import io.infraveil.host.process.ProcessGroups;
import io.infraveil.host.process.ProcessIdentity;
import io.infraveil.host.process.cgroup.CgroupLayout;
import io.infraveil.host.process.cgroup.CgroupLimits;
import io.infraveil.host.process.cgroup.Cgroups;
import io.infraveil.host.process.cgroup.ContainedCommand;
import io.infraveil.host.process.cgroup.ServiceCgroup;
import io.infraveil.proto.v1.AgentState;
import io.infraveil.proto.v1.EventKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every stop path leaves no process of the deployment. The stand-in agent forks a child into
 * its own process group; a "service" runs in a session of its own (as the agent starts them)
 * and is recorded, pid and start time, in the agent's {@code agent_state.json}, in the agent's
 * format. All are real processes.
 */
class StopPathTest {

  @TempDir Path data;
  TestAgents agents;
  ScheduledExecutorService scheduler;
  Reconciler reconciler;
  final List<ProcessIdentity> spawned = new ArrayList<>();
  /** The data dir's cgroups, named as the agents name them; set by tests that need them. */
  Cgroups cgroups;

  @BeforeEach
  void setUp() {
    agents = new TestAgents(data);
    scheduler = TestAgents.scheduler();
  }

  @AfterEach
  void tearDown() {
    if (cgroups != null) {
      cgroups.killDeployment("web", "KILL", Duration.ZERO); // whatever a failed test left
    }
    if (reconciler != null) {
      reconciler.close(false); // starts nothing any more
    }
    scheduler.shutdownNow();
    if (reconciler != null) {
      TestAgents.killAll(reconciler.state());
    }
    spawned.forEach(p -> ProcessGroups.stopGroup(p, "KILL", Duration.ofSeconds(1)));
  }

  private Reconciler reconciler(String agentBody, CrashBudget budget) throws Exception {
    reconciler = agents.reconciler(agents.agent(agentBody), new FileStateStore(data), budget,
        PayloadPrefetcher.AGENT_FETCHES, scheduler);
    return reconciler;
  }

  /** A service process in a session of its own, recorded in the agent's state file. */
  private ProcessIdentity startRecordedService(String deployment) throws Exception {
    Path agentDir = data.resolve("agents").resolve(deployment);
    Files.createDirectories(agentDir);
    Process service = ProcessGroups.startInNewSession(List.of("sleep", "1000"), agentDir,
        Map.of(), agentDir.resolve("svc.out"), agentDir.resolve("svc.err"));
    ProcessIdentity identity = ProcessIdentity.of(service.toHandle()).orElseThrow();
    spawned.add(identity);
    JsonFiles.write(agentDir.resolve("agent_state.json"), Map.of("formatVersion", 1,
        "releaseSha256", V1.sha256(),
        "services", Map.of("api", Map.of("state", "RUNNING", "processes", List.of(Map.of(
            "clusterIndex", 0, "commandIndex", 0, "pid", identity.pid(),
            "startedAt", identity.startedAt().toString()))))));
    await("service in its own group", () -> ProcessGroups.processGroupOf(identity.pid())
        == identity.pid());
    return identity;
  }

  private ProcessIdentity childOf(ProcessIdentity agent) throws Exception {
    Path childPid = data.resolve("agents/web/child.pid");
    await("agent's child", () -> Files.exists(childPid));
    Thread.sleep(50);
    long pid = Long.parseLong(Files.readString(childPid).trim());
    ProcessIdentity child = ProcessIdentity.ofPid(pid).orElseThrow();
    assertEquals(agent.pid(), ProcessGroups.processGroupOf(pid), "child in the agent's group");
    spawned.add(child);
    return child;
  }

  private static void awaitLines(Path file, int n) throws InterruptedException {
    await(n + " lines in " + file.getFileName(), () -> {
      try {
        return Files.exists(file) && Files.readAllLines(file).size() >= n;
      } catch (IOException e) {
        return false;
      }
    });
  }

  /**
   * The launcher's own account: {@code n} agents spawned, each one's exit counted as exactly one
   * crash, in the order they were spawned (a crash counted twice, or for an agent that never
   * ran, breaks the pairing).
   */
  private void assertEachSpawnCrashedOnce(int n) {
    List<String> spawned = agents.pidsLogged("spawn");
    assertEquals(n, spawned.size(), agents.logText());
    assertEquals(spawned, agents.pidsLogged("crash"), agents.logText());
  }

  /**
   * Delete of a deployment whose agent ignores SIGTERM, or is stopped (SIGSTOP): after the
   * grace the agent's group and the recorded service are killed, and only then is the record
   * forgotten.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ignores-sigterm", "sigstopped"})
  void deleteLeavesNoProcessWhenAgentDoesNotStop(String how) throws Exception {
    reconciler("trap '' TERM\nsleep 1000 &\necho $! > child.pid\nexec sleep 1000",
        CrashBudget.defaults());
    reconciler.acceptDesired(desired(1, web(V1, 1, false)));
    reconciler.start();
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(10)));
    ProcessIdentity agent = reconciler.state().agents().get("web").process();
    ProcessIdentity child = childOf(agent);
    ProcessIdentity service = startRecordedService("web");
    if (how.equals("sigstopped")) {
      ProcessGroups.signal(agent.pid(), "STOP");
    }

    reconciler.acceptDesired(desired(2)); // deleted
    reconciler.reconcile();
    Thread.sleep(500); // well inside the 2 s grace: the agent still has time, nothing forgotten
    assertNotNull(reconciler.state().agents().get("web"), "forgotten before the agent stopped");
    assertTrue(agent.isAlive());
    assertTrue(service.isAlive());

    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(20)));
    assertFalse(TestAgents.runs(agent), "agent");
    assertFalse(TestAgents.runs(child), "agent's child");
    assertFalse(TestAgents.runs(service), "recorded service");
    assertNull(reconciler.state().agents().get("web"));
    assertNull(new FileStateStore(data).load().orElseThrow().agents().get("web"));
    assertTrue(agents.logText().contains("action=stop_forced deployment=web"
        + " agent_exited_in_time=false services_killed=[" + service.pid() + "]"),
        agents.logText());
  }

  /** An agent that stops in time (and its services with it) is not killed, nor reported. */
  @Test
  void agentThatStopsInTimeIsNotForced() throws Exception {
    reconciler("exec sleep 1000", CrashBudget.defaults());
    reconciler.acceptDesired(desired(1, web(V1, 1, false)));
    reconciler.start();
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(10)));
    ProcessIdentity agent = reconciler.state().agents().get("web").process();

    reconciler.acceptDesired(desired(2));
    reconciler.reconcile();
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(10)));

    assertFalse(TestAgents.runs(agent));
    assertNull(reconciler.state().agents().get("web"));
    assertFalse(agents.logText().contains("action=stop_forced"), agents.logText());
  }

  /**
   * A new generation hands the services over: the agent sees the handover request at its
   * SIGTERM and exits, the recorded service keeps running for the next agent, nothing is
   * forced; a delete afterwards is a full stop again (request removed, service killed).
   */
  @Test
  void newGenerationHandsServicesOverAndDeleteStillStopsThem() throws Exception {
    ProcessIdentity service = startRecordedService("web");
    reconciler("trap 'if [ -f handover ]; then echo yes >> saw-handover; else echo no >>"
        + " saw-handover; fi; exit 0' TERM\nsleep 1000 &\nwait", CrashBudget.defaults());
    reconciler.acceptDesired(desired(1, web(V1, 1, false)));
    reconciler.start();
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(10)));
    ProcessIdentity first = reconciler.state().agents().get("web").process();

    reconciler.acceptDesired(desired(2, web(V1, 2, false)));
    reconciler.reconcile();
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(10)));
    ProcessIdentity second = reconciler.state().agents().get("web").process();
    Path saw = data.resolve("agents/web/saw-handover");
    assertEquals(List.of("yes"), Files.readAllLines(saw));
    assertFalse(TestAgents.runs(first));
    assertTrue(TestAgents.runs(second));
    assertTrue(TestAgents.runs(service), "the service runs on for the next agent");
    assertTrue(agents.logText().contains("action=hand_over"), agents.logText());
    assertFalse(agents.logText().contains("forced"), agents.logText());

    reconciler.acceptDesired(desired(3));
    reconciler.reconcile();
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(10)));
    assertEquals(List.of("yes", "no"), Files.readAllLines(saw));
    assertFalse(TestAgents.runs(service), "a delete stops the services");
    assertFalse(Files.exists(data.resolve("agents/web/" + io.infraveil.host.fs.AgentHandover.FILE)));
  }

  /** The grace is the release's longest stop_timeout plus the margin, at least the minimum. */
  @Test
  void graceFollowsTheReleasesLongestStopTimeout() throws Exception {
    Path agentDir = data.resolve("agents/web");
    Path release = agentDir.resolve("releases").resolve(V1.sha256());
    Files.createDirectories(release);
    Files.writeString(release.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "sleep 1000" ]
            stop_timeout: 25s
          worker:
            run:
              start: [ "sleep 1000" ]
            stop_timeout: 40s
        """);
    AgentStopGrace grace = new AgentStopGrace(Duration.ofSeconds(10), Duration.ofSeconds(5));
    assertEquals(Duration.ofSeconds(45), grace.forAgent(agentDir, V1));
    assertEquals(Duration.ofSeconds(10), grace.forAgent(agentDir, TestAgents.V2),
        "no readable release: the minimum");
    Files.writeString(release.resolve("config.yaml"), "services: [");
    assertEquals(Duration.ofSeconds(10), grace.forAgent(agentDir, V1), "unreadable config");
  }

  /**
   * A crash-looping agent's services are left running while it is respawned (the next agent
   * adopts them), and stopped once the agent is suspended: nobody would supervise them.
   */
  @Test
  void suspensionStopsTheServicesOfTheSuspendedAgent() throws Exception {
    ProcessIdentity service = startRecordedService("web");
    Path marker = data.resolve("crash-now");
    Path passed = data.resolve("passed-marker-check.txt");
    reconciler("[ -e '" + marker + "' ] && exit 3\necho up >> '" + passed + "'\nexec sleep 1000",
        CrashBudget.defaults());
    reconciler.acceptDesired(desired(1, web(V1, 1, false)));
    reconciler.start();
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(10)));

    // One crash: respawned, the service untouched. An agent is killed only once its script
    // wrote its start line and passed the marker check: a kill that came earlier would leave
    // a spawn without a start line, and a marker written earlier would make it exit by itself.
    ProcessIdentity first = reconciler.state().agents().get("web").process();
    awaitLines(passed, 1);
    ProcessGroups.signal(first.pid(), "KILL");
    await("respawned", () -> {
      AgentRecord r = reconciler.state().agents().get("web");
      return r.process() != null && !r.process().equals(first) && r.process().isAlive();
    });
    assertTrue(service.isAlive(), "a respawn leaves the services to the new agent");

    ProcessIdentity second = reconciler.state().agents().get("web").process();
    awaitLines(passed, 2);
    Files.writeString(marker, "");
    ProcessGroups.signal(second.pid(), "KILL");
    await("suspended", () -> reconciler.state().agents().get("web").suspendedUntil() != null);
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(20)));

    assertFalse(TestAgents.runs(service), "the suspended agent's service was stopped");
    assertEquals(7, agents.startLines().size(), "the first start and six respawns");
    assertEachSpawnCrashedOnce(7);
    assertEquals(AgentState.AGENT_STATE_SUSPENDED, reconciler.statuses().get(0).getState());
    assertEquals("CRASH_BUDGET_EXHAUSTED", reconciler.statuses().get(0).getReason());
    assertTrue(reconciler.drainEvents().stream()
        .anyMatch(e -> e.getKind() == EventKind.EVENT_KIND_AGENT_SUSPENDED));
    assertTrue(agents.logText().contains("action=suspended_services_stopped deployment=web pids=["
        + service.pid() + "]"), agents.logText());
  }

  /** The data dir's cgroups; the test is skipped, saying why, without a writable hierarchy. */
  private Cgroups needCgroups() {
    CgroupLayout layout = CgroupLayout.system();
    assumeTrue(layout.tracks(), "skipped: no writable cgroup hierarchy here: "
        + layout.description());
    cgroups = Cgroups.system(data);
    return cgroups;
  }

  /**
   * A service whose start command daemonized (double fork into a new session, the starter
   * gone), in the deployment's cgroup as the agent puts it: recorded nowhere, outside every
   * process group the launcher knows. Returns the daemon.
   */
  private ProcessIdentity startDaemonInCgroup(String deployment) throws Exception {
    ServiceCgroup cgroup = cgroups.service(deployment, "api", 0);
    cgroup.create(CgroupLimits.NONE);
    Process starter = ProcessGroups.startInNewSession(ContainedCommand.shell(
        "(setsid sh -c 'trap \"\" TERM; exec sleep 1000' &) ; exit 0", Optional.of(cgroup),
        Optional.empty()), data, Map.of(), data.resolve("daemon.out"), data.resolve("daemon.err"));
    assertEquals(0, starter.waitFor(), "the start command exits at once, as pm2 start does");
    await("daemon in the cgroup", () -> !cgroup.pids().isEmpty());
    ProcessIdentity daemon = ProcessIdentity.ofPid(cgroup.pids().get(0)).orElseThrow();
    spawned.add(daemon);
    assertTrue(daemon.isAlive());
    return daemon;
  }

  private void assertNoCgroupLeft(String deployment) {
    assertEquals(List.of(), cgroups.deploymentCgroups(deployment), "cgroups left");
    Path deploymentDir = cgroups.service(deployment, "api", 0).path().getParent();
    assertFalse(Files.exists(deploymentDir), deploymentDir + " still exists");
  }

  /**
   * Delete of a deployment whose agent is SIGSTOPped and whose service daemonized: the agent
   * stops nothing, the daemon is in no recorded group; the launcher kills the deployment's
   * cgroups after the agent, so no process and no cgroup is left.
   */
  @Test
  void deleteKillsDaemonizedServiceThroughCgroups() throws Exception {
    needCgroups();
    reconciler("exec sleep 1000", CrashBudget.defaults());
    reconciler.acceptDesired(desired(1, web(V1, 1, false)));
    reconciler.start();
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(10)));
    ProcessIdentity agent = reconciler.state().agents().get("web").process();
    ProcessIdentity daemon = startDaemonInCgroup("web");
    ProcessGroups.signal(agent.pid(), "STOP");

    reconciler.acceptDesired(desired(2)); // deleted
    reconciler.reconcile();
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(20)));

    assertFalse(TestAgents.runs(agent), "agent");
    assertFalse(TestAgents.runs(daemon), "daemonized service");
    assertNoCgroupLeft("web");
    assertNull(reconciler.state().agents().get("web"));
    // SIGKILL with no grace: the cgroup may already be empty when it is looked at again, so
    // cgroups_killed is 0 or 1; what matters is that nothing is left.
    assertTrue(agents.logText().matches("(?s).*action=stop_forced deployment=web"
        + " agent_exited_in_time=false services_killed=\\[\\] cgroups_killed=[01]"
        + " cgroups_left=\\[\\].*"), agents.logText());
  }

  /** A suspended agent's daemonized service gets SIGTERM, then the kill, through its cgroup. */
  @Test
  void suspensionStopsDaemonizedServiceThroughCgroups() throws Exception {
    needCgroups();
    ProcessIdentity daemon = startDaemonInCgroup("web");
    reconciler("exit 3", CrashBudget.defaults());
    reconciler.acceptDesired(desired(1, web(V1, 1, false)));
    reconciler.start();
    await("suspended", () -> {
      AgentRecord record = reconciler.state().agents().get("web"); // null until the first spawn
      return record != null && record.suspendedUntil() != null;
    });
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(20)));

    assertFalse(TestAgents.runs(daemon), "daemonized service of the suspended agent");
    assertNoCgroupLeft("web");
    assertTrue(agents.logText().contains("action=suspended_services_stopped deployment=web"
        + " pids=[] cgroups=1 cgroups_killed=1 cgroups_left=[]"), agents.logText());
  }

  /**
   * The agent was SIGKILLed while no launcher ran, and the deployment was deleted meanwhile:
   * the restarted launcher finds it dead and, before it forgets the deployment, stops what the
   * agent left: its recorded service and (with cgroups) a daemon recorded nowhere.
   */
  @Test
  void deleteOfADeploymentWhoseAgentWasKilledStopsWhatItLeft() throws Exception {
    boolean withCgroups = CgroupLayout.system().tracks();
    if (withCgroups) {
      cgroups = Cgroups.system(data);
    }
    ScheduledExecutorService firstScheduler = TestAgents.scheduler();
    Reconciler first = agents.reconciler(agents.agent("exec sleep 1000"),
        new FileStateStore(data), CrashBudget.defaults(), PayloadPrefetcher.AGENT_FETCHES,
        firstScheduler);
    first.acceptDesired(desired(1, web(V1, 1, false)));
    first.start();
    assertTrue(first.awaitIdle(Duration.ofSeconds(10)));
    ProcessIdentity agent = first.state().agents().get("web").process();
    spawned.add(agent);
    ProcessIdentity service = startRecordedService("web");
    ProcessIdentity daemon = withCgroups ? startDaemonInCgroup("web") : null;
    first.close(false); // the launcher goes away, its agent does not
    firstScheduler.shutdownNow();
    first.acceptDesired(desired(2)); // the delete it received just before
    ProcessGroups.signal(agent.pid(), "KILL");
    await("agent dead", () -> !TestAgents.runs(agent));

    reconciler("exec sleep 1000", CrashBudget.defaults());
    reconciler.start();
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(20)));

    assertNull(reconciler.state().agents().get("web"));
    assertFalse(TestAgents.runs(service), "the dead agent's recorded service");
    assertTrue(agents.logText().contains("action=forget deployment=web pids=[" + service.pid()
        + "]"), agents.logText());
    if (withCgroups) {
      assertFalse(TestAgents.runs(daemon), "the dead agent's daemonized service");
      assertNoCgroupLeft("web");
    }
    assertEquals(1, agents.startLines().size(), "nothing respawned for a deleted deployment");
  }

  /** {@code --stop-agents-on-exit}: the launcher's close stops every agent on the full path. */
  @Test
  void stopAgentsOnExitLeavesNoProcess() throws Exception {
    reconciler("trap '' TERM\nsleep 1000 &\necho $! > child.pid\nexec sleep 1000",
        CrashBudget.defaults());
    reconciler.acceptDesired(desired(1, web(V1, 1, false)));
    reconciler.start();
    assertTrue(reconciler.awaitIdle(Duration.ofSeconds(10)));
    ProcessIdentity agent = reconciler.state().agents().get("web").process();
    ProcessIdentity child = childOf(agent);
    ProcessIdentity service = startRecordedService("web");

    reconciler.close(true);

    assertFalse(TestAgents.runs(agent), "agent");
    assertFalse(TestAgents.runs(child), "agent's child");
    assertFalse(TestAgents.runs(service), "recorded service");
    assertNull(reconciler.state().agents().get("web").process());
    assertEquals("LAUNCHER_EXIT", reconciler.state().agents().get("web").lastReason());
  }
}
