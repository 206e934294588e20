package io.infraveil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fan-out benchmark runs end to end at a small size: every connected host's Sync stream
 * receives each deployment change it is named in (a new deployment, then a new version moved
 * to all at once). Speed is only printed.
 */
class FanOutBenchTest {

  @TempDir Path dir;

  @Test
  void everyConnectedHostReceivesEachDeploymentChange() throws Exception {
    var result = FanOutBench.run(dir, 50, 2, Duration.ofMinutes(2));
    System.out.println(result.describe());
    assertEquals(50, result.online(), result.describe());
    assertEquals(3, result.puts().size(), result.describe());
    assertTrue(result.reachedAll(), "every host receives every change: " + result.describe());
  }
}
