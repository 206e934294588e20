package io.infraveil.appconfig;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** One entry of {@code services}, with every default filled in. */
public record ServiceSpec(
    String name,
    int instances,
    int clusters,
    RunSpec run,
    Optional<HealthCheckSpec> healthcheck,
    Map<String, String> env,
    String stopSignal,
    Duration stopTimeout,
    ResourcesSpec resources,
    Optional<String> user,
    List<SecretRef> secrets,
    List<PortSpec> ports) {

  public static final int MAX_INSTANCES = 64;
  public static final int MAX_CLUSTERS = 64;
  public static final String DEFAULT_STOP_SIGNAL = "TERM";
  public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(10);

  /** A service without resource limits or secrets that runs as the agent's own account. */
  public ServiceSpec(String name, int instances, int clusters, RunSpec run,
      Optional<HealthCheckSpec> healthcheck, Map<String, String> env, String stopSignal,
      Duration stopTimeout) {
    this(name, instances, clusters, run, healthcheck, env, stopSignal, stopTimeout,
        ResourcesSpec.NONE, Optional.empty(), List.of());
  }

  /** A service without ports. */
  public ServiceSpec(String name, int instances, int clusters, RunSpec run,
      Optional<HealthCheckSpec> healthcheck, Map<String, String> env, String stopSignal,
      Duration stopTimeout, ResourcesSpec resources, Optional<String> user,
      List<SecretRef> secrets) {
    this(name, instances, clusters, run, healthcheck, env, stopSignal, stopTimeout, resources,
        user, secrets, List.of());
  }

  /** A service without secrets. */
  public ServiceSpec(String name, int instances, int clusters, RunSpec run,
      Optional<HealthCheckSpec> healthcheck, Map<String, String> env, String stopSignal,
      Duration stopTimeout, ResourcesSpec resources, Optional<String> user) {
    this(name, instances, clusters, run, healthcheck, env, stopSignal, stopTimeout, resources,
        user, List.of());
  }

  public ServiceSpec {
    Objects.requireNonNull(resources, "resources");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(run, "run");
    Objects.requireNonNull(healthcheck, "healthcheck");
    Objects.requireNonNull(stopSignal, "stopSignal");
    Objects.requireNonNull(stopTimeout, "stopTimeout");
    if (!AppConfigParser.SERVICE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("bad service name " + name);
    }
    if (instances < 1 || instances > MAX_INSTANCES) {
      throw new IllegalArgumentException("instances must be 1.." + MAX_INSTANCES + ", got "
          + instances);
    }
    if (clusters < 1 || clusters > MAX_CLUSTERS) {
      throw new IllegalArgumentException("clusters must be 1.." + MAX_CLUSTERS + ", got "
          + clusters);
    }
    env = Collections.unmodifiableMap(new LinkedHashMap<>(env));
    secrets = List.copyOf(secrets);
    ports = List.copyOf(ports);
    if (ports.stream().map(PortSpec::name).distinct().count() != ports.size()) {
      throw new IllegalArgumentException("port names must be unique, got " + ports);
    }
  }

  /** The same spec with {@code extra} added to its environment (secret values at run time). */
  public ServiceSpec withEnv(Map<String, String> extra) {
    Map<String, String> merged = new LinkedHashMap<>(env);
    merged.putAll(extra);
    return new ServiceSpec(name, instances, clusters, run, healthcheck, merged, stopSignal,
        stopTimeout, resources, user, secrets, ports);
  }

  /** Names the environment variables but never their values, which may be secrets. */
  @Override
  public String toString() {
    return "ServiceSpec[name=" + name + ", instances=" + instances + ", clusters=" + clusters
        + ", run=" + run + ", healthcheck=" + healthcheck + ", env=" + env.keySet()
        + ", stopSignal=" + stopSignal + ", stopTimeout=" + stopTimeout + ", resources="
        + resources + ", user=" + user + ", secrets=" + secrets + ", ports=" + ports + "]";
  }
}
