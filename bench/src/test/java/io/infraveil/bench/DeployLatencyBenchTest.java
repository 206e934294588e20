package io.infraveil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.bench.crash.CrashRestartBench;
import io.infraveil.bench.memory.DevStack;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deploy-latency benchmark end to end at a small size against a real dev stack: a new
 * deployment and two new versions, each answering, each with its phases in the pipeline
 * telemetry.
 */
class DeployLatencyBenchTest {

  @TempDir Path work;

  @Test
  void everyDeployAnswersWithItsNewVersionAndItsPhasesAreRecorded() throws Exception {
    try (DevStack stack = DevStack.start(CrashRestartBench.repoRoot(), work.resolve("dev"))) {
      DeployLatencyBench.Result result = DeployLatencyBench.measure(stack, 2, work);
      System.out.print(result.describe());
      assertEquals(3, result.deploys().size(), result.describe());
      for (DeployLatencyBench.Deploy deploy : result.newVersions()) {
        assertTrue(deploy.answeringMillis() > 0, result.describe());
        assertTrue(deploy.run().map(run -> DeployLatencyBench.phaseMillis(run).keySet())
            .orElseThrow().containsAll(java.util.List.of("placement", "sync_fetch_handover",
                "agent_start", "stop_and_start", "first_health_check", "report")), result.describe());
      }
    }
  }
}
