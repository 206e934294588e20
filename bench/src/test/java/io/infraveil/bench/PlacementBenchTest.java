package io.infraveil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The placement benchmark runs end to end at a small size and places every host it names. */
class PlacementBenchTest {

  @TempDir Path dir;

  @Test
  void aDeploymentNamingEveryHostIsPlacedOnAllOfThem() throws Exception {
    var result = PlacementBench.run(dir, 50, 2);
    System.out.println(result.describe());
    assertEquals(50, result.placed(), result.describe());
  }
}
