package io.infraveil.appconfig;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A parsed and validated {@code config.yaml}: its services, in file order, and its rollout
 * strategy ({@link RolloutSpec#NONE} without a {@code rollout:} block).
 */
public record AppConfig(Map<String, ServiceSpec> services, RolloutSpec rollout) {

  public AppConfig(Map<String, ServiceSpec> services) {
    this(services, RolloutSpec.NONE);
  }

  public AppConfig {
    rollout = rollout == null ? RolloutSpec.NONE : rollout;
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
