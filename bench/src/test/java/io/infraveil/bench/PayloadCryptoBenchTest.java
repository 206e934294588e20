package io.infraveil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The crypto benchmark runs end to end (seal, then open and verify what was sealed). */
class PayloadCryptoBenchTest {

  @Test
  void sealsAndOpensAndPrintsThroughput() throws Exception {
    var result = PayloadCryptoBench.run(4, 1, 1);
    System.out.println(result.describe());
    assertEquals(4, result.megabytes());
    assertTrue(result.sealMbPerSecond() > 0 && result.openMbPerSecond() > 0, result.describe());
    assertTrue(result.openPerCoreMbPerSecond() > 0 && result.jdkSha256MbPerSecond() > 0,
        result.describe());
    assertTrue(result.sha256Implementation().startsWith("JDK SHA-256 from provider "),
        result.describe());
  }
}
