package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The contracts stay lint-clean under buf's STANDARD and COMMENTS rules (proto/buf.yaml). */
class BufLintTest {

  @Test
  void contractsAreLintClean() throws Exception {
    Path buf = Buf.install();
    Path proto = ExternalProcess.repoRoot().resolve("proto");

    ExternalProcess.Result lint = ExternalProcess.run(List.of(buf.toString(), "lint"), proto,
        Duration.ofMinutes(2));

    assertEquals(0, lint.code(), () -> "buf lint found problems in proto/:\n" + lint);
  }
}
