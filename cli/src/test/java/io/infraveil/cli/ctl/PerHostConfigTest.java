package io.infraveil.cli.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@code ctl plan} shows per host: the base file, or the base with matching overrides merged. */
class PerHostConfigTest {

  private static final String CONFIG = """
      services:
        api:
          run:
            start: [ "./api --zone local" ]
          env:
            REGION: home
      overrides:
        provider=aws:
          services:
            api:
              env:
                REGION: eu-west-1
      """;

  @Test
  void aHostNoOverrideMatchesRunsTheFileAsPacked() {
    assertEquals(CONFIG, PerHostConfig.forHost(bytes(CONFIG), Map.of("provider", "onprem")));
  }

  @Test
  void aMatchingHostSeesTheOverrideMergedAndTheRestKept() {
    String merged = PerHostConfig.forHost(bytes(CONFIG), Map.of("provider", "aws", "zone", "a"));
    assertTrue(merged.startsWith("# config.yaml with overrides provider=aws merged for this host"), merged);
    assertTrue(merged.contains("REGION: eu-west-1"), merged);
    assertTrue(!merged.contains("REGION: home"), merged);
    assertTrue(merged.contains("./api --zone local"), "the start command of the base stays: " + merged);
    assertTrue(!merged.contains("overrides:"), "the overrides block itself is not what runs: " + merged);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
