package io.infraveil.cli.ctl;

import io.infraveil.appconfig.AppConfig;
import io.infraveil.appconfig.AppConfigParser;
import io.infraveil.appconfig.ConfigException;
import io.infraveil.appconfig.ConfigOverrides;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The config.yaml a host would run, shown by {@code ctl plan}: the base file as packed, or,
 * where the host's labels match {@code overrides:}, the base with those overrides merged over
 * it (the same merge the host's agent does).
 */
final class PerHostConfig {

  private PerHostConfig() {}

  /**
   * The config text for a host with {@code hostLabels}.
   *
   * @param baseYaml the payload's config.yaml as packed
   */
  static String forHost(byte[] baseYaml, Map<String, String> hostLabels) {
    String base = new String(baseYaml, StandardCharsets.UTF_8);
    AppConfig config;
    try {
      config = AppConfigParser.parse("config.yaml", baseYaml);
    } catch (ConfigException e) {
      return base; // plan checked the archive already; a config that fails here is shown as packed
    }
    String selectors = config.overrides().matching(hostLabels).stream()
        .map(ConfigOverrides::selectorText).collect(Collectors.joining(", "));
    return ConfigOverrides.mergedYamlFor(config, hostLabels)
        .map(merged -> "# config.yaml with overrides " + selectors + " merged for this host\n" + merged)
        .orElse(base);
  }
}
