package io.infraveil.agent;

import io.infraveil.appconfig.AppConfig;
import io.infraveil.appconfig.ServiceSpec;
import java.util.Objects;
import java.util.Optional;

/**
 * Puts the secrets a release's {@code config.yaml} names where its services see them
 * (environment variables, files), before anything of the running version is stopped. A
 * secret that is not set refuses the start with a message naming it and the command that
 * sets it.
 */
public interface ServiceSecrets {

  /** For agents with no secrets source: a release that names none runs; one that does is refused. */
  ServiceSecrets NONE = config -> {
    Optional<ServiceSpec> needs = config.services().values().stream()
        .filter(spec -> !spec.secrets().isEmpty()).findFirst();
    return needs.isEmpty() ? Prepared.ready(config) : Prepared.refused("service "
        + needs.get().name() + " names secrets in config.yaml, but this agent has no host"
        + " identity to fetch them with");
  };

  /** The release's config with every secret in place, or why it cannot start. */
  Prepared prepare(AppConfig config);

  /** What {@link #prepare} decided: {@code config} to run, or {@code problem} to report. */
  record Prepared(Optional<AppConfig> config, String problem) {

    public Prepared {
      Objects.requireNonNull(config, "config");
      problem = problem == null ? "" : problem;
    }

    public static Prepared ready(AppConfig config) {
      return new Prepared(Optional.of(config), "");
    }

    public static Prepared refused(String problem) {
      return new Prepared(Optional.empty(), problem);
    }
  }
}
