package io.infraveil.launcher;

import io.infraveil.proto.v1.DesiredAgent;
import java.util.Objects;

/** One entry of the desired state, as persisted: what should run (or stop) for a deployment. */
public record DesiredAgentSpec(String deployment, PayloadId payload, long generation, boolean stop,
    boolean retryMarkedBad) {

  public DesiredAgentSpec {
    Objects.requireNonNull(deployment, "deployment");
    if (!deployment.matches("[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?")) {
      throw new IllegalArgumentException("deployment name \"" + deployment
          + "\" is invalid: use lower-case letters, digits, dots, dashes and underscores");
    }
    Objects.requireNonNull(payload, "payload");
  }

  public static DesiredAgentSpec of(DesiredAgent agent) {
    return new DesiredAgentSpec(agent.getDeployment(), PayloadId.of(agent.getPayload()),
        agent.getGeneration(), agent.getStop(), agent.getRetryMarkedBad());
  }
}
