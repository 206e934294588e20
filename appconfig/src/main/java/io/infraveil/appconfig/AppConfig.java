package io.infraveil.appconfig;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** A parsed and validated {@code config.yaml}: its services, in file order. */
public record AppConfig(Map<String, ServiceSpec> services) {

  public AppConfig {
    if (services.isEmpty()) {
      throw new IllegalArgumentException("a config needs at least one service");
    }
    services.forEach((name, spec) -> {
      if (!name.equals(spec.name())) {
        throw new IllegalArgumentException("service key " + name + " names spec " + spec.name());
      }
    });
    services = Collections.unmodifiableMap(new LinkedHashMap<>(services));
  }
}
