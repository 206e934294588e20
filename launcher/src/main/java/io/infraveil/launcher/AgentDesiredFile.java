package io.infraveil.launcher;

import io.infraveil.host.fs.JsonFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * {@code DATA/agents/<deployment>/desired.json}: what the launcher tells an agent to run. Written
 * atomically before the agent is spawned; a contract with the agent.
 */
public record AgentDesiredFile(int formatVersion, String deployment, PayloadId payload,
    long generation, boolean retryMarkedBad, String controlPlane) {

  public static final int FORMAT_VERSION = 1;
  public static final String FILE = "desired.json";

  public AgentDesiredFile {
    Objects.requireNonNull(deployment, "deployment");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(controlPlane, "controlPlane");
  }

  public static AgentDesiredFile of(DesiredAgentSpec spec, String controlPlane) {
    return new AgentDesiredFile(FORMAT_VERSION, spec.deployment(), spec.payload(),
        spec.generation(), spec.retryMarkedBad(), controlPlane);
  }

  public static Path agentDir(Path dataDir, String deployment) {
    return dataDir.resolve("agents").resolve(deployment);
  }

  /** Writes the file (only when its content changed). */
  public void write(Path dataDir) throws IOException {
    JsonFiles.write(agentDir(dataDir, deployment).resolve(FILE), this);
  }
}
