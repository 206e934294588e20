package io.infraveil.cli.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import org.junit.jupiter.api.Test;

class StatusCommandTest {

  // The STATE column says when and at which limit the kernel OOM-killed a service.
  @Test
  void stateShowsOomKillsWithTheLimit() {
    ServiceStatus running = ServiceStatus.newBuilder().setName("api")
        .setState(ServiceState.SERVICE_STATE_RUNNING).build();
    assertEquals(Format.enumName(ServiceState.SERVICE_STATE_RUNNING), StatusCommand.state(running));
    ServiceStatus killed = running.toBuilder().setState(ServiceState.SERVICE_STATE_HEALING)
        .setOomKills(2).setMemoryLimitBytes(256L << 20).build();
    assertEquals(Format.enumName(ServiceState.SERVICE_STATE_HEALING) + " (OOM-killed 2 at 256Mi)",
        StatusCommand.state(killed));
  }

  // A host whose agents fall back to process groups gets one warning line saying why.
  @Test
  void warnsOncePerHostWithoutCgroups() {
    String why = "process groups only: no cgroup hierarchy found at /sys/fs/cgroup; daemonizing"
        + " start commands escape supervision and resources limits are not enforced";
    io.infraveil.proto.v1.GetStatusResponse status = io.infraveil.proto.v1.GetStatusResponse
        .newBuilder()
        .addDeployments(io.infraveil.proto.v1.Deployment.newBuilder().setName("shop")
            .addOnHosts(io.infraveil.proto.v1.DeploymentOnHost.newBuilder().setHostName("b")
                .setContainment(why))
            .addOnHosts(io.infraveil.proto.v1.DeploymentOnHost.newBuilder().setHostName("a")
                .setContainment("cgroup hybrid: hybrid: cgroup v2 at /sys/fs/cgroup/unified")))
        .addDeployments(io.infraveil.proto.v1.Deployment.newBuilder().setName("web")
            .addOnHosts(io.infraveil.proto.v1.DeploymentOnHost.newBuilder().setHostName("b")
                .setContainment(why)))
        .build();
    assertEquals(java.util.List.of("warning: host b runs services without cgroups: " + why),
        StatusCommand.uncontained(status));
  }
}
