package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.ListDeploymentsResponse;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code ctl deployments}: deployments with rollout progress. */
@Command(name = "deployments", mixinStandardHelpOptions = true,
    description = "List deployments with rollout progress.")
final class DeploymentsCommand implements Callable<Integer> {

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      ListDeploymentsResponse response =
          connection.unary().listDeployments(ListDeploymentsRequest.getDefaultInstance());
      ctl.print(response, out -> printDeployments(response.getDeploymentsList(), out),
          out -> printDeploymentsWide(response.getDeploymentsList(), out));
    }
    return 0;
  }

  static void printDeployments(List<Deployment> deployments, PrintWriter out) {
    Table table = new Table("NAME", "PAYLOAD", "GEN", "HOSTS", "UPDATED", "HEALTHY", "FAILED",
        "PAUSED", "CHANGED", "SIGNED BY");
    for (Deployment deployment : deployments) {
      var progress = deployment.getProgress();
      table.row(deployment.getName(), Format.payload(deployment.getPayload()),
          deployment.getGeneration(), progress.getHostsTotal(), progress.getHostsUpdated(),
          progress.getHostsHealthy(), progress.getHostsFailed(), deployment.getPaused() ? "yes" : "no",
          Format.time(deployment.getUpdatedAt()), Format.signers(deployment.getSignaturesList()));
    }
    table.print(out, "no deployments yet: `infraveil ctl deploy DIR --name N --hosts HOST`");
  }

  /** {@code -o wide}: the previous payload, the targets and the hosts it is placed on too. */
  static void printDeploymentsWide(List<Deployment> deployments, PrintWriter out) {
    Table table = new Table("NAME", "PAYLOAD", "GEN", "HOSTS", "UPDATED", "HEALTHY", "FAILED",
        "PAUSED", "CHANGED", "SIGNED BY", "PREVIOUS", "TARGETS", "PLACED ON");
    for (Deployment deployment : deployments) {
      var progress = deployment.getProgress();
      String targets = deployment.getHostsList().isEmpty()
          ? "labels " + Format.labels(deployment.getLabelsMap()) : "hosts " + String.join(",", deployment.getHostsList());
      table.row(deployment.getName(), Format.payload(deployment.getPayload()),
          deployment.getGeneration(), progress.getHostsTotal(), progress.getHostsUpdated(),
          progress.getHostsHealthy(), progress.getHostsFailed(), deployment.getPaused() ? "yes" : "no",
          Format.time(deployment.getUpdatedAt()), Format.signers(deployment.getSignaturesList()),
          Format.payload(deployment.getPreviousPayload()), targets,
          deployment.getPlacedHostsList().isEmpty() ? "-" : String.join(",", deployment.getPlacedHostsList()));
    }
    table.print(out, "no deployments yet: `infraveil ctl deploy DIR --name N --hosts HOST`");
  }
}
