package io.infraveil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hundreds of hosts reconnecting at once all get through, first connections and again after a
 * control-plane restart (a correctness check of the storm path, bounded in count and time);
 * speed is only printed, never asserted.
 */
class ReconnectStormTest {

  @TempDir Path dir;

  @Test
  void everyHostOfAReconnectStormComesOnline() throws Exception {
    var result = ReconnectStorm.run(dir, 300, Duration.ofMinutes(2));
    System.out.println(result.describe());
    assertEquals(300, result.online(), result.describe());
    assertEquals(300, result.restart().online(), "every host is back after a restart: " + result.describe());
  }
}
