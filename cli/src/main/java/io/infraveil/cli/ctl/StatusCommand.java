package io.infraveil.cli.ctl;

import io.infraveil.cli.StartupTrace;
import io.infraveil.proto.v1.ControlPlaneReplica;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.DeploymentOnHost;
import io.infraveil.proto.v1.GetStatusRequest;
import io.infraveil.proto.v1.GetStatusResponse;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ctl status}: the operations view in one screen: the control-plane replicas and their
 * roles, hosts and their connection,
 * deployments with rollout progress, services with health, restarts and reason (a FAILED
 * service also gets a line with its last failure), and the open incidents. {@code -o json} prints the whole {@code GetStatusResponse} (also security
 * events, the service catalog and pipeline runs).
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Hosts, deployments with rollout progress, services and open incidents.")
final class StatusCommand implements Callable<Integer> {

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      GetStatusResponse response = connection.unary().getStatus(GetStatusRequest.getDefaultInstance());
      StartupTrace.mark("answered");
      ctl.print(response, out -> print(response, out));
    }
    return 0;
  }

  /** The state, with "OOM-killed N at LIMIT" when the kernel killed the service for memory. */
  static String state(ServiceStatus service) {
    String state = Format.enumName(service.getState());
    if (service.getOomKills() == 0) {
      return state;
    }
    return state + " (OOM-killed " + service.getOomKills()
        + (service.getMemoryLimitBytes() > 0 ? " at "
            + io.infraveil.appconfig.ResourcesSpec.formatBytes(service.getMemoryLimitBytes()) : "")
        + ")";
  }

  /**
   * One warning per host whose agents cannot put services in cgroups: there a daemonizing
   * start command escapes supervision and resources limits are not enforced.
   */
  static List<String> uncontained(GetStatusResponse status) {
    java.util.Map<String, String> byHost = new java.util.TreeMap<>();
    for (Deployment deployment : status.getDeploymentsList()) {
      for (DeploymentOnHost onHost : deployment.getOnHostsList()) {
        if (onHost.getContainment().startsWith("process groups only")) {
          byHost.putIfAbsent(onHost.getHostName(), onHost.getContainment());
        }
      }
    }
    return byHost.entrySet().stream()
        .map(e -> "warning: host " + e.getKey() + " runs services without cgroups: "
            + e.getValue())
        .toList();
  }

  /**
   * {@code http=web-1:41234 admin=web-1:41235}, with the cluster index when the service runs
   * several ({@code http[1]=web-1:41240}); {@code -} without ports.
   */
  static String endpoints(String host, ServiceStatus service) {
    if (service.getPortsCount() == 0) {
      return "-";
    }
    boolean several = service.getPortsList().stream().anyMatch(p -> p.getClusterIndex() > 0);
    return service.getPortsList().stream()
        .map(p -> p.getName() + (several ? "[" + p.getClusterIndex() + "]" : "") + "=" + host
            + ":" + p.getPort())
        .collect(java.util.stream.Collectors.joining(" "));
  }

  /**
   * The control-plane replicas: name, address, role (the one answering is marked), hosts whose
   * Sync stream each holds, and when it was started and last seen. Nothing from an older
   * control plane that does not send them.
   */
  static void printReplicas(GetStatusResponse status, PrintWriter out) {
    if (status.getReplicasCount() == 0) {
      return;
    }
    Table replicas = new Table("REPLICA", "ADDRESS", "ROLE", "HOSTS", "STARTED", "SEEN");
    for (ControlPlaneReplica replica : status.getReplicasList()) {
      String role = Format.enumName(replica.getRole())
          + (replica.getLeaderTerm() > 0 ? " (term " + replica.getLeaderTerm() + ")" : "");
      replicas.row(replica.getName() + (replica.getName().equals(status.getAnsweredBy()) ? " *" : ""),
          replica.getGrpcAddress(), role, String.valueOf(replica.getHostsHeld()),
          Format.time(replica.getStartedAt()), Format.time(replica.getSeenAt()));
    }
    out.println("CONTROL PLANE (* answered this)");
    replicas.print(out, "");
    out.println();
  }

  static void print(GetStatusResponse status, PrintWriter out) {
    printReplicas(status, out);
    out.println("HOSTS");
    HostsCommand.printHosts(status.getHostsList(), out);
    out.println();
    out.println("DEPLOYMENTS");
    DeploymentsCommand.printDeployments(status.getDeploymentsList(), out);
    status.getDeploymentsList().forEach(deployment ->
        deployment.getPlacementWarningsList().forEach(warning -> out.println("warning: " + warning)));
    Table services = new Table("DEPLOYMENT", "HOST", "VERSION", "STATUS", "SERVICE", "STATE",
        "HEALTH", "RESTARTS", "LAST CHECK", "ENDPOINTS", "REASON");
    List<String> failed = new ArrayList<>();
    for (Deployment deployment : status.getDeploymentsList()) {
      for (DeploymentOnHost onHost : deployment.getOnHostsList()) {
        for (ServiceStatus service : onHost.getServicesList()) {
          services.row(deployment.getName(), onHost.getHostName(), Format.payload(onHost.getPayload()),
              Format.enumName(onHost.getVersionStatus()), service.getName(),
              state(service), Format.enumName(service.getHealth()),
              service.getRestartsInWindow() + " (" + service.getRestartsTotal() + " total)",
              Format.time(service.getLastCheckAt()), endpoints(onHost.getHostName(), service),
              service.getReason());
          if (service.getState() == ServiceState.SERVICE_STATE_FAILED) {
            failed.add(deployment.getName() + "/" + service.getName() + " on " + onHost.getHostName()
                + " FAILED after " + service.getRestartsInWindow() + " restarts ("
                + (service.getReason().isEmpty() ? "no reason given" : service.getReason()) + ")"
                + (service.getLastFailure().isEmpty() ? "" : "; last failure: " + service.getLastFailure())
                + "; left stopped until a new version or a restart of the deployment");
          }
        }
      }
    }
    out.println();
    out.println("SERVICES");
    services.print(out, "no services reported yet");
    failed.forEach(out::println);
    uncontained(status).forEach(out::println);
    out.println();
    List<Incident> open = status.getIncidentsList().stream()
        .filter(incident -> incident.getState() == IncidentState.INCIDENT_STATE_OPEN)
        .toList();
    out.println("INCIDENTS: " + open.size() + " open"
        + (open.isEmpty() ? "" : " (`infraveil ctl incidents show ID` for a timeline)"));
    if (!open.isEmpty()) {
      IncidentsCommand.printIncidents(open, out);
    }
  }
}
