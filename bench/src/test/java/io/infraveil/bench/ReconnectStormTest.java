package io.infraveil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.bench.storm.StormFleet;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hundreds of hosts, in two load-generator processes, reconnecting at once to a control plane
 * started from the CLI in its own process all get through, first connections and again after
 * the control plane restarts, and the control plane counts each online (a correctness check of
 * the storm path, bounded in count and time); speed is only printed, never asserted.
 */
class ReconnectStormTest {

  @TempDir Path dir;

  @Test
  void everyHostOfAReconnectStormComesOnline() throws Exception {
    var result = StormFleet.run(dir, 300, 150, Duration.ofMinutes(2));
    System.out.println(result.describe());
    assertEquals(2, result.processes(), result.describe());
    assertEquals(300, result.first().online(), result.describe());
    assertEquals(300, result.first().countedOnline(), "the control plane counts every host: " + result.describe());
    assertEquals(300, result.restart().online(), "every host is back after a restart: " + result.describe());
    assertEquals(300, result.restart().countedOnline(), "every host is back after a restart: " + result.describe());
    assertTrue(result.heapBeforeBytes() > 0 && result.heapOnlineBytes() > 0,
        "the control plane's live heap was read: " + result.describe());
  }
}
