package io.infraveil.launcher;

import static io.infraveil.launcher.TestAgents.V1;
import static io.infraveil.launcher.TestAgents.desired;
import static io.infraveil.launcher.TestAgents.web;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Temp files a killed launcher left are removed at start; nobody else's are touched. */
class StaleTempsTest {

  @TempDir Path data;

  private Path file(String relative, String content) throws Exception {
    Path path = data.resolve(relative);
    Files.createDirectories(path.getParent());
    Files.writeString(path, content);
    return path;
  }

  // The launcher's own temps go: state, its backup, each desired.json. Agents' temps stay.
  @Test
  void removesOnlyTheLaunchersOwnTemps() throws Exception {
    Path state = file(".launcher_state.json.4417.tmp", "{\"formatVer");
    Path backup = file(".launcher_state.json.prev.93.tmp", "");
    Path desiredTemp = file("agents/web/.desired.json.12.tmp", "{");
    Path agentsTemp = file("agents/web/.agent_state.json.77.tmp", "{");
    Path desiredFile = file("agents/web/desired.json", "{}");

    StaleTemps.Removed removed = StaleTemps.remove(data);

    assertEquals(Set.of(state, backup, desiredTemp), Set.copyOf(removed.files()));
    assertEquals(List.of(), removed.problems());
    assertTrue(Files.exists(agentsTemp), "a running agent's temp is the agent's");
    assertTrue(Files.exists(desiredFile));
    assertEquals(List.of(), StaleTemps.remove(data).files(), "nothing left the second time");
  }

  // Reconciler.start removes them before it reads the state, and says so, one line each.
  @Test
  void launcherStartRemovesStaleTempsAndLogsThem() throws Exception {
    Path stale = file(".launcher_state.json.4417.tmp", "torn");
    TestAgents agents = new TestAgents(data);
    ScheduledExecutorService scheduler = TestAgents.scheduler();
    Reconciler reconciler = agents.reconciler(agents.agent("exec sleep 1000"),
        new FileStateStore(data), CrashBudget.defaults(), PayloadPrefetcher.AGENT_FETCHES,
        scheduler);
    try {
      reconciler.acceptDesired(desired(1, web(V1, 1, false)));
      reconciler.start();
      assertTrue(reconciler.awaitIdle(Duration.ofSeconds(10)));

      assertFalse(Files.exists(stale));
      assertTrue(agents.logText().contains("action=stale_temp_removed path=" + stale),
          agents.logText());
    } finally {
      reconciler.close(false);
      scheduler.shutdownNow();
      TestAgents.killAll(reconciler.state());
    }
  }
}
