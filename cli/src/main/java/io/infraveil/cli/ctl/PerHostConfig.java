package io.infraveil.cli.ctl;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The config.yaml a host would run, shown by {@code ctl plan}. Today every host runs the base
 * file as packed; this is the one place where per-host {@code overrides:} (selected by the
 * host's labels) are to be merged in, so plan shows exactly what each host gets.
 */
final class PerHostConfig {

  private PerHostConfig() {}

  /**
   * The config text for a host with {@code hostLabels}.
   *
   * @param baseYaml the payload's config.yaml as packed
   */
  static String forHost(byte[] baseYaml, Map<String, String> hostLabels) {
    // Integration point for the overrides merge (appconfig's ConfigOverrides.mergedFor): until it
    // exists, a host's config is the base file.
    return new String(baseYaml, StandardCharsets.UTF_8);
  }
}
