package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.ResumeDeploymentRequest;
import io.infraveil.proto.v1.ResumeDeploymentResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ctl resume NAME}: pushes what was stored while paused. */
@Command(name = "resume", mixinStandardHelpOptions = true,
    description = "Continue a paused deployment: hosts get its current version and generation. "
        + "Exit 0 resumed (or was not paused), 1 refused.")
final class ResumeCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "NAME", description = "Deployment name.")
  String name;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      ResumeDeploymentResponse response = connection.unary()
          .resumeDeployment(ResumeDeploymentRequest.newBuilder().setName(name).build());
      ctl.print(response, out -> {
        out.println("resumed " + name + ": its hosts are moving to the version below");
        DeployCommand.printDeployment(response.getDeployment(), out);
      });
    }
    return 0;
  }
}
