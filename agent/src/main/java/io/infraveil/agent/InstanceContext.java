package io.infraveil.agent;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Who runs the services: the host (its enrolled name and labels) and the deployment. Services
 * see the names as {@code INFRAVEIL_HOST} and {@code INFRAVEIL_DEPLOYMENT}; the labels pick the
 * {@code overrides:} of config.yaml that apply on this host.
 */
public record InstanceContext(String hostName, String deployment, Map<String, String> hostLabels) {

  public InstanceContext {
    Objects.requireNonNull(hostName, "hostName");
    Objects.requireNonNull(deployment, "deployment");
    hostLabels = Collections.unmodifiableMap(new TreeMap<>(
        hostLabels == null ? Map.of() : hostLabels));
  }

  /** For engine tests outside a host: the agent dir's name as deployment, no host name. */
  static InstanceContext standalone(java.nio.file.Path agentDir) {
    return new InstanceContext("", agentDir.getFileName().toString(), Map.of());
  }
}
