package io.infraveil.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads the control plane's {@code --config FILE}: a {@code .properties} file, or YAML whose
 * nested mappings become dotted keys ({@code infraveil: {join-token-ttl: 2h}} is
 * {@code infraveil.join-token-ttl=2h}).
 */
final class ConfigFile {

  private ConfigFile() {}

  static Map<String, Object> read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new CliException("config file " + file + " does not exist");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    if (file.getFileName().toString().endsWith(".properties")) {
      Properties properties = new Properties();
      try (Reader reader = Files.newBufferedReader(file)) {
        properties.load(reader);
      }
      properties.stringPropertyNames().forEach(key -> out.put(key, properties.getProperty(key)));
      return out;
    }
    Object root;
    try (Reader reader = Files.newBufferedReader(file)) {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
    } catch (YAMLException e) {
      throw new CliException("config file " + file + " is not valid YAML: " + e.getMessage());
    }
    if (root == null) {
      return out;
    }
    if (!(root instanceof Map<?, ?> map)) {
      throw new CliException("config file " + file + " must be a YAML mapping of properties "
          + "or a .properties file");
    }
    flatten("", map, out);
    return out;
  }

  private static void flatten(String prefix, Map<?, ?> map, Map<String, Object> out) {
    map.forEach((key, value) -> {
      String name = prefix + key;
      if (value instanceof Map<?, ?> nested) {
        flatten(name + ".", nested, out);
      } else {
        out.put(name, value);
      }
    });
  }
}
