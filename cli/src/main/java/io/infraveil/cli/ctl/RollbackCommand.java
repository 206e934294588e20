package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.RollbackDeploymentRequest;
import io.infraveil.proto.v1.RollbackDeploymentResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ctl rollback DEPLOYMENT}: back to the previous payload version. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = "Move a deployment back to its previous payload version.")
final class RollbackCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DEPLOYMENT", description = "Deployment name.")
  String deployment;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      RollbackDeploymentResponse response = connection.unary().rollbackDeployment(
          RollbackDeploymentRequest.newBuilder().setName(deployment).build());
      ctl.print(response, out -> {
        out.println("rolled back " + deployment);
        DeployCommand.printDeployment(response.getDeployment(), out);
      });
    }
    return 0;
  }
}
