package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.RestartDeploymentRequest;
import io.infraveil.proto.v1.RestartDeploymentResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ctl restart NAME}: a new generation, so every host restarts the same version. */
@Command(name = "restart", mixinStandardHelpOptions = true,
    description = "Restart a deployment on every placed host (same version, next generation). "
        + "Exit 0 restarted, 1 refused.")
final class RestartCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "NAME", description = "Deployment name.")
  String name;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      RestartDeploymentResponse response = connection.unary()
          .restartDeployment(RestartDeploymentRequest.newBuilder().setName(name).build());
      ctl.print(response, out -> {
        out.println("restarting " + name + " on " + hosts(response.getDeployment().getPlacedHostsList())
            + ": generation " + response.getDeployment().getGeneration()
            + (response.getDeployment().getPaused() ? " (stored only: the deployment is paused)" : ""));
        DeployCommand.printDeployment(response.getDeployment(), out);
      });
    }
    return 0;
  }

  static String hosts(java.util.List<String> hosts) {
    return hosts.isEmpty() ? "no host" : String.join(", ", hosts);
  }
}
