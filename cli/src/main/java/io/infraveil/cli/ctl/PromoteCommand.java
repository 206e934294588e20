package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.PromoteRolloutRequest;
import io.infraveil.proto.v1.PromoteRolloutResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ctl promote DEPLOYMENT}: lets a rollout continue past its healthy canaries. */
@Command(name = "promote", mixinStandardHelpOptions = true,
    description = "Let a rollout whose canaries are healthy continue to the other hosts.")
final class PromoteCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DEPLOYMENT", description = "Deployment name.")
  String deployment;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      PromoteRolloutResponse response = connection.rollouts().promoteRollout(
          PromoteRolloutRequest.newBuilder().setDeployment(deployment).build());
      ctl.print(response, out -> out.println("promoted: " + RolloutProgress.summary(response.getRollout())));
    }
    return 0;
  }
}
