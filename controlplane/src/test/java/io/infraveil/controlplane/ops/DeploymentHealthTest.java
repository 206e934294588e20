package io.infraveil.controlplane.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.DeploymentOnHost;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.RolloutProgress;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The public health of a deployment: a new version that failed while every host still serves
 * its last known good one is "serving-previous-version", not an outage.
 */
class DeploymentHealthTest {

  @ParameterizedTest(name = "total={0} healthy={1} failed={2} serving={3} -> {4}")
  @CsvSource({
      "0, 0, 0, 0, pending",
      "2, 2, 0, 2, healthy",
      "2, 1, 0, 2, updating",
      "2, 1, 1, 2, updating",
      "2, 0, 2, 2, serving-previous-version",
      "2, 0, 1, 2, serving-previous-version",
      "2, 0, 2, 1, degraded",
      "2, 1, 0, 1, degraded",
      "1, 0, 1, 0, outage",
      "2, 0, 1, 0, outage",
      "2, 0, 0, 0, pending"})
  void healthFollowsProgressAndWhatHostsServe(int total, int healthy, int failed, int serving, String expected) {
    Deployment.Builder deployment = Deployment.newBuilder().setName("hello").setProgress(RolloutProgress.newBuilder()
        .setHostsTotal(total).setHostsHealthy(healthy).setHostsFailed(failed));
    for (int i = 0; i < total; i++) {
      boolean up = i < serving;
      deployment.addOnHosts(DeploymentOnHost.newBuilder().setHostName("h" + i).addServices(ServiceStatus.newBuilder()
          .setName("api")
          .setState(up ? ServiceState.SERVICE_STATE_RUNNING : ServiceState.SERVICE_STATE_FAILED)
          .setHealth(up ? HealthStatus.HEALTH_STATUS_HEALTHY : HealthStatus.HEALTH_STATUS_UNHEALTHY)));
    }
    assertEquals(expected, OperationsViews.health(deployment.build()));
  }
}
