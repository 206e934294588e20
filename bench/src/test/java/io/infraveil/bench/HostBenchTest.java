package io.infraveil.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.bench.crash.CrashRestartBench;
import io.infraveil.bench.memory.CtlStatusBench;
import io.infraveil.bench.memory.DevStack;
import io.infraveil.bench.memory.HostMemoryBench;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory and ctl-status benchmarks run end to end at a small size against one real dev
 * stack (control plane, launcher, agent): 2 s idle, 2 ctl runs.
 */
class HostBenchTest {

  @TempDir Path work;

  @Test
  void measuresHostMemoryAndCtlStatusAgainstARealStack() throws Exception {
    try (DevStack stack = DevStack.start(CrashRestartBench.repoRoot(), work.resolve("dev"))) {
      HostMemoryBench.Result memory = HostMemoryBench.measure(stack, Duration.ofSeconds(2));
      System.out.print(memory.describe());
      assertTrue(memory.launcherKib() > 0 && memory.agentKib() > 0, memory.describe());
      CtlStatusBench.Result ctl = CtlStatusBench.measure(stack, 2, work);
      System.out.print(ctl.describe());
      assertTrue(ctl.archived().minMs() > 0, ctl.describe());
    }
  }
}
