package io.infraveil.cli.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.infraveil.proto.v1.ControlPlaneReplica;
import io.infraveil.proto.v1.ControlPlaneReplicaRole;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.DeploymentOnHost;
import io.infraveil.proto.v1.GetStatusResponse;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What `ctl status` prints for services, FAILED ones above all. */
class StatusCommandTest {

  private static String print(GetStatusResponse status) {
    StringWriter out = new StringWriter();
    PrintWriter writer = new PrintWriter(out);
    StatusCommand.print(status, writer);
    writer.flush();
    return out.toString();
  }

  // A FAILED service shows its state, restart count and reason in the table, and a line with
  // what its last restart died of and what brings it back; a running one gets no such line.
  @Test
  void failedServiceShowsRestartsReasonAndLastFailure() {
    ServiceStatus failed = ServiceStatus.newBuilder().setName("api")
        .setState(ServiceState.SERVICE_STATE_FAILED)
        .setHealth(HealthStatus.HEALTH_STATUS_UNKNOWN)
        .setRestartsInWindow(8).setRestartsTotal(8).setReason("BUDGET_EXHAUSTED")
        .setLastFailure("PROCESS_EXITED: process 4242 (cluster 0) exited").build();
    ServiceStatus running = ServiceStatus.newBuilder().setName("worker")
        .setState(ServiceState.SERVICE_STATE_RUNNING)
        .setHealth(HealthStatus.HEALTH_STATUS_HEALTHY).setRestartsTotal(2).build();
    GetStatusResponse status = GetStatusResponse.newBuilder()
        .addDeployments(Deployment.newBuilder().setName("web")
            .addOnHosts(DeploymentOnHost.newBuilder().setHostName("web-1")
                .addAllServices(List.of(failed, running))))
        .build();

    String text = print(status);

    List<String> lines = text.lines().toList();
    int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("DEPLOYMENT ")).findFirst()
        .orElseThrow());
    assertTrue(lines.get(header).endsWith("LAST CHECK  ENDPOINTS  REASON"), lines.get(header));
    assertTrue(lines.get(header + 1).matches(
        "web +web-1 .* api +failed +unknown +8 \\(8 total\\) +- +- +BUDGET_EXHAUSTED"),
        lines.get(header + 1));
    assertTrue(lines.get(header + 2).matches(
        "web +web-1 .* worker +running +healthy +0 \\(2 total\\) +- +- +-"), lines.get(header + 2));
    assertEquals("web/api on web-1 FAILED after 8 restarts (BUDGET_EXHAUSTED); last failure:"
        + " PROCESS_EXITED: process 4242 (cluster 0) exited; left stopped until a new version or"
        + " a restart of the deployment", lines.get(header + 3));
    assertEquals(1, lines.stream().filter(l -> l.contains(" FAILED after ")).count());
  }

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

  // Ports reported by the agent show as name=host:port, with the cluster index when several.
  @Test
  void endpointsShowHostAndPortPerInstance() {
    ServiceStatus one = ServiceStatus.newBuilder().setName("api")
        .addPorts(io.infraveil.proto.v1.ServicePortAssignment.newBuilder().setName("http")
            .setPort(41234))
        .addPorts(io.infraveil.proto.v1.ServicePortAssignment.newBuilder().setName("admin")
            .setPort(41235))
        .build();
    assertEquals("http=web-1:41234 admin=web-1:41235", StatusCommand.endpoints("web-1", one));
    ServiceStatus two = ServiceStatus.newBuilder().setName("api")
        .addPorts(io.infraveil.proto.v1.ServicePortAssignment.newBuilder().setName("http")
            .setPort(41234))
        .addPorts(io.infraveil.proto.v1.ServicePortAssignment.newBuilder().setName("http")
            .setClusterIndex(1).setPort(41240))
        .build();
    assertEquals("http[0]=web-1:41234 http[1]=web-1:41240", StatusCommand.endpoints("web-1", two));
    assertEquals("-", StatusCommand.endpoints("web-1", ServiceStatus.getDefaultInstance()));
  }

  // The replicas come first: each with its address, role (the leader with its term), the hosts
  // it holds, and a star on the one that answered.
  @Test
  void replicasShowTheirRoleHostsAndWhoAnswered() {
    GetStatusResponse status = GetStatusResponse.newBuilder()
        .setAnsweredBy("cp-b")
        .addReplicas(ControlPlaneReplica.newBuilder().setName("cp-a").setGrpcAddress("10.0.0.1:7443")
            .setRole(ControlPlaneReplicaRole.CONTROL_PLANE_REPLICA_ROLE_LEADER).setLeaderTerm(4).setHostsHeld(12)
            .setStartedAt(Timestamp.newBuilder().setSeconds(1_764_500_000)))
        .addReplicas(ControlPlaneReplica.newBuilder().setName("cp-b").setGrpcAddress("10.0.0.2:7443")
            .setRole(ControlPlaneReplicaRole.CONTROL_PLANE_REPLICA_ROLE_FOLLOWER).setHostsHeld(9))
        .addReplicas(ControlPlaneReplica.newBuilder().setName("cp-c").setGrpcAddress("10.0.0.3:7443")
            .setRole(ControlPlaneReplicaRole.CONTROL_PLANE_REPLICA_ROLE_GONE))
        .build();

    List<String> lines = print(status).lines().toList();

    assertEquals("CONTROL PLANE (* answered this)", lines.get(0));
    assertTrue(lines.get(1).matches("REPLICA +ADDRESS +ROLE +HOSTS +STARTED +SEEN"), lines.get(1));
    assertTrue(lines.get(2).matches("cp-a +10\\.0\\.0\\.1:7443 +leader \\(term 4\\) +12 +2025-11-30T10:53:20Z +-"),
        lines.get(2));
    assertTrue(lines.get(3).matches("cp-b \\* +10\\.0\\.0\\.2:7443 +follower +9 +- +-"), lines.get(3));
    assertTrue(lines.get(4).matches("cp-c +10\\.0\\.0\\.3:7443 +gone +0 +- +-"), lines.get(4));
    assertEquals("HOSTS", lines.get(6));
  }

  // A control plane that sends no replicas (an older one) gets no replica section.
  @Test
  void noReplicaSectionWithoutReplicas() {
    assertTrue(print(GetStatusResponse.getDefaultInstance()).startsWith("HOSTS"));
  }
}
