package io.infraveil.launcher;

import static io.infraveil.launcher.TestAgents.V1;
import static io.infraveil.launcher.TestAgents.desired;
import static io.infraveil.launcher.TestAgents.web;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.process.ProcessIdentity;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two launcher instances over one data dir; the first disappears without stopping agents. */
class ReconcilerRestoreTest {

  @TempDir Path data;
  final List<ScheduledExecutorService> schedulers = new java.util.ArrayList<>();
  Reconciler second;

  @AfterEach
  void tearDown() {
    if (second != null) {
      second.close(false); // starts nothing any more
    }
    schedulers.forEach(ScheduledExecutorService::shutdownNow);
    if (second != null) {
      TestAgents.killAll(second.state());
    }
  }

  private Reconciler launcher(TestAgents agents, List<String> command) {
    ScheduledExecutorService scheduler = TestAgents.scheduler();
    schedulers.add(scheduler);
    return agents.reconciler(command, new FileStateStore(data), CrashBudget.defaults(),
        PayloadPrefetcher.AGENT_FETCHES, scheduler);
  }

  static void settle(Reconciler reconciler) throws InterruptedException {
    assertTrue(reconciler.awaitIdle(java.time.Duration.ofSeconds(20)), "workers still busy");
  }

  /** A restarted launcher adopts the live agent: started exactly once, same pid and start time. */
  @Test
  void restartedLauncherAdoptsLiveAgentWithoutRestartingIt() throws Exception {
    TestAgents agents = new TestAgents(data);
    List<String> command = agents.agent("exec sleep 1000");
    Reconciler first = launcher(agents, command);
    first.acceptDesired(desired(1, web(V1, 1, false)));
    first.start();
    settle(first);
    ProcessIdentity running = first.state().agents().get("web").process();
    schedulers.get(0).shutdownNow(); // the first launcher is gone; its agent is not

    second = launcher(agents, command);
    second.start();
    settle(second);
    second.reconcile();
    settle(second);
    Thread.sleep(100);

    assertEquals(1, agents.startLines().size());
    assertEquals(running, second.state().agents().get("web").process());
    assertTrue(running.isAlive());
    assertEquals(1, second.heldRevision());
    assertTrue(agents.logText().contains("action=adopt deployment=web pid=" + running.pid()),
        agents.logText());
  }

  /** An agent that died while no launcher ran is forgotten (no crash counted) and respawned. */
  @Test
  void deadAgentIsRespawnedNotCountedAsCrash() throws Exception {
    TestAgents agents = new TestAgents(data);
    List<String> command = agents.agent("exec sleep 1000");
    Reconciler first = launcher(agents, command);
    first.acceptDesired(desired(1, web(V1, 1, false)));
    first.start();
    settle(first);
    ProcessIdentity dead = first.state().agents().get("web").process();
    schedulers.get(0).shutdownNow();
    TestAgents.killAll(first.state());

    second = launcher(agents, command);
    second.start();
    settle(second);

    ProcessIdentity respawned = second.state().agents().get("web").process();
    TestAgents.await("second start line", () -> {
      try {
        return agents.startLines().size() >= 2;
      } catch (java.io.IOException e) {
        return false;
      }
    });
    assertNotEquals(dead, respawned);
    assertTrue(respawned.isAlive());
    assertEquals(2, agents.startLines().size());
    assertEquals(List.of(), second.state().agents().get("web").crashes());
    assertEquals("MISSING", second.state().agents().get("web").lastReason());
  }

  /** A process in the state that is no longer desired is a stray: stopped and forgotten. */
  @Test
  void strayAgentIsStoppedOnStart() throws Exception {
    TestAgents agents = new TestAgents(data);
    List<String> command = agents.agent("exec sleep 1000");
    Reconciler first = launcher(agents, command);
    first.acceptDesired(desired(1, web(V1, 1, false)));
    first.start();
    settle(first);
    ProcessIdentity stray = first.state().agents().get("web").process();
    first.acceptDesired(desired(2)); // persisted, but this launcher dies before acting on it
    schedulers.get(0).shutdownNow();

    second = launcher(agents, command);
    second.start();
    settle(second);

    assertFalse(stray.isAlive());
    assertNull(second.state().agents().get("web"));
    assertEquals(1, agents.startLines().size());
  }
}
