package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.RollbackDeploymentRequest;
import io.infraveil.proto.v1.RollbackDeploymentResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ctl rollback DEPLOYMENT [--to VERSION|SEQUENCE] [--force]}: back to the last version
 * that was healthy on every host, or the one named, through a rollout.
 */
@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = "Move a deployment back to the last version that was healthy on every host "
        + "(or --to one from `ctl history`), host by host as its rollout strategy says.")
final class RollbackCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DEPLOYMENT", description = "Deployment name.")
  String deployment;

  @Option(names = "--to", paramLabel = "VERSION|SEQUENCE",
      description = "The version label or sequence to go to (see `ctl history`).")
  String to = "";

  @Option(names = "--force", description = "Allow a version whose rollout failed (with --to).")
  boolean force;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      boolean wasSigned = connection.unary()
          .listDeployments(ListDeploymentsRequest.getDefaultInstance()).getDeploymentsList()
          .stream().anyMatch(d -> d.getName().equals(deployment) && d.getSignaturesCount() > 0);
      RollbackDeploymentResponse response = connection.unary().rollbackDeployment(
          RollbackDeploymentRequest.newBuilder().setName(deployment).setTo(to).setForce(force).build());
      ctl.print(response, out -> {
        out.println("rolled back " + deployment);
        DeployCommand.printDeployment(response.getDeployment(), out);
      });
      if (wasSigned && response.getDeployment().getSignaturesCount() == 0) {
        // The control plane cannot sign; hosts that pin publisher keys will refuse this version.
        ctl.err().println("warning: " + deployment + " was signed, and the version it rolled back "
            + "to is not: hosts with pinned publisher keys refuse it and keep the running version."
            + " Roll back there by deploying the old version again with --sign KEY.");
        ctl.err().flush();
      }
    }
    return 0;
  }
}
