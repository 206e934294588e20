package io.infraveil.appconfig;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A parsed and validated {@code config.yaml}: its services, in file order, its rollout
 * strategy ({@link RolloutSpec#NONE} without a {@code rollout:} block) and its per-host
 * {@code overrides:} (apply them with {@link ConfigOverrides#mergedFor}).
 */
public record AppConfig(Map<String, ServiceSpec> services, RolloutSpec rollout, ConfigOverrides overrides) {

  /** A config without a rollout block or overrides. */
  public AppConfig(Map<String, ServiceSpec> services) {
    this(services, RolloutSpec.NONE, ConfigOverrides.NONE);
  }

  public AppConfig {
    rollout = rollout == null ? RolloutSpec.NONE : rollout;
    Objects.requireNonNull(overrides, "overrides");
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
