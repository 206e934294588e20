package io.infraveil.cli.ctl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/** {@code -o yaml}: the JSON document ctl prints, as block-style YAML with the same keys. */
final class Yamls {

  private static final ObjectMapper JSON = new ObjectMapper();

  private Yamls() {}

  static String fromJson(String json) {
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    options.setIndicatorIndent(2);
    options.setIndentWithIndicator(true);
    try {
      return new Yaml(options).dump(JSON.readValue(json, Object.class));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot turn the answer into YAML: " + e.getOriginalMessage(), e);
    }
  }
}
