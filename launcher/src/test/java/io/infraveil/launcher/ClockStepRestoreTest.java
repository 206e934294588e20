package io.infraveil.launcher;

import static io.infraveil.launcher.TestAgents.V1;
import static io.infraveil.launcher.TestAgents.desired;
import static io.infraveil.launcher.TestAgents.web;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.process.ProcessIdentity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A launcher restarted after the system clock was stepped adopts its live agent. A step moves
 * the start instant the JDK derives from boot time by the size of the step, which is simulated
 * by shifting the saved start instant by that much; the raw start ticks the state file keeps
 * are what adoption compares, so the agent is started exactly once.
 */
class ClockStepRestoreTest {

  @TempDir Path data;
  private final List<ScheduledExecutorService> schedulers = new ArrayList<>();
  private Reconciler second;

  @AfterEach
  void tearDown() {
    schedulers.forEach(ScheduledExecutorService::shutdownNow);
    if (second != null) {
      TestAgents.killAll(second.state());
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {3600, -3600})
  void restartedLauncherAdoptsLiveAgentAfterAClockStep(long stepSeconds) throws Exception {
    TestAgents agents = new TestAgents(data);
    List<String> command = agents.agent("exec sleep 1000");
    Reconciler first = launcher(agents, command);
    first.acceptDesired(desired(1, web(V1, 1, false)));
    first.start();
    // Spawning runs on the deployment's worker: wait until the record names the agent.
    TestAgents.await("web's agent spawned", () -> first.state().agents().get("web") != null
        && first.state().agents().get("web").process() != null);
    ProcessIdentity running = first.state().agents().get("web").process();
    schedulers.get(0).shutdownNow(); // the first launcher is gone; its agent is not
    assertTrue(running.hasStartTicks(), "the state file records the start ticks");

    FileStateStore store = new FileStateStore(data);
    LauncherState saved = store.load().orElseThrow();
    AgentRecord record = saved.agents().get("web");
    ProcessIdentity beforeStep = new ProcessIdentity(running.pid(),
        running.startedAt().minus(Duration.ofSeconds(stepSeconds)), running.startTicks());
    store.save(saved.withAgent(record.withProcessIdentity(beforeStep)));

    second = launcher(agents, command);
    second.start();
    second.reconcile();
    TestAgents.await("web's agent adopted", () -> agents.logText().contains("action=adopt"));
    Thread.sleep(100);

    assertEquals(1, agents.startLines().size(), "the agent was started exactly once");
    assertEquals(beforeStep, second.state().agents().get("web").process());
    assertTrue(running.isAlive());
    assertTrue(agents.logText().contains("action=adopt deployment=web pid=" + running.pid()),
        agents.logText());
  }

  private Reconciler launcher(TestAgents agents, List<String> command) {
    ScheduledExecutorService scheduler = TestAgents.scheduler();
    schedulers.add(scheduler);
    return agents.reconciler(command, new FileStateStore(data), CrashBudget.defaults(),
        PayloadPrefetcher.AGENT_FETCHES, scheduler);
  }
}
