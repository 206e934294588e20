package io.infraveil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.bench.storm.StormFleet;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forty hosts, in two load-generator processes, reconnecting at once to a control plane
 * started from the CLI in its own process all get through, first connections and again after
 * the control plane restarts, and the control plane counts each online (a correctness check of
 * the storm path, bounded in count and time: every step of the full-size run is taken, with
 * enrollment at this size a few seconds instead of most of the run); speed is only printed,
 * never asserted.
 */
class ReconnectStormTest {

  private static final int HOSTS = 40;

  @TempDir Path dir;

  @Test
  void everyHostOfAReconnectStormComesOnline() throws Exception {
    var result = StormFleet.run(dir, HOSTS, HOSTS / 2, Duration.ofMinutes(2));
    System.out.println(result.describe());
    assertEquals(2, result.processes(), result.describe());
    assertEquals(HOSTS, result.first().online(), result.describe());
    assertEquals(HOSTS, result.first().countedOnline(), "the control plane counts every host: " + result.describe());
    assertEquals(HOSTS, result.restart().online(), "every host is back after a restart: " + result.describe());
    assertEquals(HOSTS, result.restart().countedOnline(), "every host is back after a restart: " + result.describe());
    assertTrue(result.heapBeforeBytes() > 0 && result.heapOnlineBytes() > 0,
        "the control plane's live heap was read: " + result.describe());
  }
}
