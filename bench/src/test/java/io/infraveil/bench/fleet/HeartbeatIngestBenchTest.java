package io.infraveil.bench.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ingest benchmark runs end to end at a small size: every host comes online and every report sent is handled. */
class HeartbeatIngestBenchTest {

  @TempDir Path dir;

  @Test
  void everyHostConnectsAndEveryReportIsHandled() throws Exception {
    var result = HeartbeatIngestBench.run(dir, 50, 200, Duration.ofSeconds(2));
    System.out.println(result.describe());
    assertEquals(50, result.online(), result.describe());
    for (var phase : result.phases()) {
      assertEquals(phase.sent(), phase.handled(), "every report sent was handled: " + result.describe());
    }
  }
}
