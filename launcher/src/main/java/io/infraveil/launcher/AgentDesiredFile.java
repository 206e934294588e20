package io.infraveil.launcher;

import io.infraveil.host.fs.JsonFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * {@code DATA/agents/<deployment>/desired.json}: what the launcher tells an agent to run. Written
 * atomically before the agent is spawned; a contract with the agent. {@code launcherFallback}
 * says the payload is the launcher's own choice, its last known good standing in after agent
 * crashes, not the control plane's: on a host with pinned publisher keys the agent then accepts
 * an older sequence this host accepted before (added within format 1; absent means false).
 * {@code hostLabels} are the host's labels from the desired state: they select the
 * {@code overrides:} of config.yaml that apply here (added within format 1; absent means none).
 */
public record AgentDesiredFile(int formatVersion, String deployment, PayloadId payload,
    long generation, boolean retryMarkedBad, String controlPlane, boolean launcherFallback,
    java.util.Map<String, String> hostLabels) {

  public static final int FORMAT_VERSION = 1;
  public static final String FILE = "desired.json";

  /** A file without host labels. */
  public AgentDesiredFile(int formatVersion, String deployment, PayloadId payload,
      long generation, boolean retryMarkedBad, String controlPlane, boolean launcherFallback) {
    this(formatVersion, deployment, payload, generation, retryMarkedBad, controlPlane,
        launcherFallback, java.util.Map.of());
  }

  public AgentDesiredFile {
    hostLabels = hostLabels == null ? java.util.Map.of()
        : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(hostLabels));
    Objects.requireNonNull(deployment, "deployment");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(controlPlane, "controlPlane");
  }

  /** The file for what the control plane wants. */
  public static AgentDesiredFile of(DesiredAgentSpec spec, String controlPlane) {
    return of(spec, controlPlane, false);
  }

  /** The file for {@code spec}; {@code launcherFallback} when the launcher chose it itself. */
  public static AgentDesiredFile of(DesiredAgentSpec spec, String controlPlane,
      boolean launcherFallback) {
    return of(spec, controlPlane, launcherFallback, java.util.Map.of());
  }

  /** The file for {@code spec} on a host with {@code hostLabels}. */
  public static AgentDesiredFile of(DesiredAgentSpec spec, String controlPlane,
      boolean launcherFallback, java.util.Map<String, String> hostLabels) {
    return new AgentDesiredFile(FORMAT_VERSION, spec.deployment(), spec.payload(),
        spec.generation(), spec.retryMarkedBad(), controlPlane, launcherFallback, hostLabels);
  }

  public static Path agentDir(Path dataDir, String deployment) {
    return dataDir.resolve("agents").resolve(deployment);
  }

  /** Writes the file (only when its content changed). */
  public void write(Path dataDir) throws IOException {
    JsonFiles.write(agentDir(dataDir, deployment).resolve(FILE), this);
  }
}
