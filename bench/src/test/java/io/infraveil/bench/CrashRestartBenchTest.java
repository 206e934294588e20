package io.infraveil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.bench.crash.CrashRestartBench;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash-restart benchmark runs end to end at a small size (two kills per supervisor, the
 * anchors that are installed included) and every kill is followed by a replacement.
 */
class CrashRestartBenchTest {

  @TempDir Path work;

  @Test
  void everyKillIsFollowedByAReplacement() throws Exception {
    var result = CrashRestartBench.run(CrashRestartBench.repoRoot(), work, 2,
        Duration.ofMillis(2500), true);
    System.out.print(result.describe());
    result.series().values().forEach(s -> assertEquals(2, s.micros().size(), s.describe()));
  }
}
