package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.PauseDeploymentRequest;
import io.infraveil.proto.v1.PauseDeploymentResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ctl pause NAME}: hosts keep what they run; later deploys are stored, not pushed. */
@Command(name = "pause", mixinStandardHelpOptions = true,
    description = "Freeze a deployment where it stands: hosts keep what they run, later deploys are "
        + "stored but not pushed until resume. Exit 0 paused (or already paused), 1 refused.")
final class PauseCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "NAME", description = "Deployment name.")
  String name;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      PauseDeploymentResponse response = connection.unary()
          .pauseDeployment(PauseDeploymentRequest.newBuilder().setName(name).build());
      ctl.print(response, out -> {
        out.println("paused " + name + ": hosts keep what they run; deploys, rollbacks and restarts are "
            + "stored but not pushed until `infraveil ctl resume " + name + "`");
        DeployCommand.printDeployment(response.getDeployment(), out);
      });
    }
    return 0;
  }
}
