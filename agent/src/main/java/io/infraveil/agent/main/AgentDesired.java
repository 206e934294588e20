package io.infraveil.agent.main;

import io.infraveil.host.fs.JsonFiles;
import io.infraveil.proto.v1.PayloadRef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * {@code DATA/agents/<deployment>/desired.json}, written atomically by the launcher before it
 * spawns the agent (the launcher's {@code AgentDesiredFile}; the JSON is the contract, this
 * record reads it). Unknown fields are ignored, so the launcher may add some.
 * {@code launcherFallback} (absent: false) marks the launcher's own fallback to its last known
 * good after agent crashes; with pinned publisher keys it lets an older sequence this host
 * accepted before through the replay check. {@code hostLabels} (absent: none) are the host's
 * labels as the control plane has them, which select the {@code overrides:} of config.yaml.
 */
public record AgentDesired(int formatVersion, String deployment, Payload payload,
    long generation, boolean retryMarkedBad, String controlPlane, boolean launcherFallback,
    java.util.Map<String, String> hostLabels) {

  public static final int FORMAT_VERSION = 1;
  public static final String FILE = "desired.json";

  /** The payload to run: {sha256, size, sequence, version}. */
  public record Payload(String sha256, long size, long sequence, String version) {
    public Payload {
      Objects.requireNonNull(sha256, "sha256");
      if (!sha256.matches("[0-9a-f]{64}")) {
        throw new IllegalArgumentException("payload sha256 must be 64 lower-case hex digits, got \""
            + sha256 + "\"");
      }
      version = version == null ? "" : version;
    }

    public PayloadRef toProto() {
      return PayloadRef.newBuilder().setSha256(sha256).setSize(size).setSequence(sequence)
          .setVersion(version).build();
    }
  }

  /** A file without host labels. */
  public AgentDesired(int formatVersion, String deployment, Payload payload, long generation,
      boolean retryMarkedBad, String controlPlane, boolean launcherFallback) {
    this(formatVersion, deployment, payload, generation, retryMarkedBad, controlPlane,
        launcherFallback, java.util.Map.of());
  }

  public AgentDesired {
    hostLabels = hostLabels == null ? java.util.Map.of() : java.util.Map.copyOf(hostLabels);
    Objects.requireNonNull(deployment, "deployment");
    Objects.requireNonNull(payload, "payload");
    controlPlane = controlPlane == null ? "" : controlPlane;
  }

  public static Path agentDir(Path dataDir, String deployment) {
    return dataDir.resolve("agents").resolve(deployment);
  }

  /** Reads the file; a missing, corrupt, foreign-format or mismatched file is an error naming it. */
  public static AgentDesired read(Path dataDir, String deployment) throws IOException {
    Path file = agentDir(dataDir, deployment).resolve(FILE);
    AgentDesired desired = JsonFiles.read(file, AgentDesired.class)
        .orElseThrow(() -> new IOException(file + " does not exist; the launcher writes it"
            + " before it starts the agent"));
    if (desired.formatVersion() != FORMAT_VERSION) {
      throw new IOException(file + " has formatVersion " + desired.formatVersion()
          + "; this agent reads " + FORMAT_VERSION);
    }
    if (!desired.deployment().equals(deployment)) {
      throw new IOException(file + " is for deployment '" + desired.deployment()
          + "', not '" + deployment + "'");
    }
    return desired;
  }

  /** Writes the file atomically (tests and tools; the launcher has its own writer). */
  public void write(Path dataDir) throws IOException {
    JsonFiles.write(agentDir(dataDir, deployment).resolve(FILE), this);
  }
}
