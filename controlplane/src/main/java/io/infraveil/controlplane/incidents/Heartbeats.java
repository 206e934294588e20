package io.infraveil.controlplane.incidents;

import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.ServiceState;

/** Readings of a heartbeat that several rules share. */
final class Heartbeats {

  private Heartbeats() {}

  /** Every service runs and none failed its health check (and there is at least one). */
  static boolean allHealthy(HeartbeatRequest heartbeat) {
    return heartbeat.getServicesCount() > 0 && heartbeat.getServicesList().stream()
        .allMatch(s -> s.getState() == ServiceState.SERVICE_STATE_RUNNING
            && s.getHealth() != HealthStatus.HEALTH_STATUS_UNHEALTHY);
  }

  static String shortSha(String sha256) {
    return sha256 == null || sha256.isEmpty() ? "?" : sha256.substring(0, Math.min(12, sha256.length()));
  }

  static String key(String host, String deployment) {
    return host + "/" + deployment;
  }
}
