package io.infraveil.cli.ctl;

import io.infraveil.cli.CliException;
import io.infraveil.proto.v1.DeleteDeploymentRequest;
import io.infraveil.proto.v1.DeleteDeploymentResponse;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import java.io.Console;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ctl delete NAME [--yes]}: stops a deployment on every host and forgets it. Deleting
 * takes a service down, so it is confirmed: with {@code --yes} at once; on a terminal by typing
 * the name; anywhere else (a script, a pipe) it only prints what it would remove and exits 2,
 * so a script that forgot {@code --yes} never deletes by accident.
 */
@Command(name = "delete", mixinStandardHelpOptions = true,
    description = "Stop a deployment on every host and forget it. Without --yes: on a terminal, "
        + "asks you to type the name; otherwise prints what it would remove and exits 2. "
        + "Exit 0 deleted, 1 refused or not confirmed, 2 --yes missing on a non-terminal.")
final class DeleteCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "NAME", description = "Deployment name.")
  String name;

  @Option(names = "--yes", description = "Delete without asking.")
  boolean yes;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      if (!yes) {
        Deployment deployment = connection.unary().listDeployments(ListDeploymentsRequest.getDefaultInstance())
            .getDeploymentsList().stream().filter(d -> d.getName().equals(name)).findFirst()
            .orElseThrow(() -> new CliException("deployment " + name + " does not exist; `infraveil ctl status` "
                + "lists deployments"));
        PrintWriter err = ctl.err();
        err.println("delete would stop " + name + " (" + Format.payload(deployment.getPayload()) + ") on "
            + RestartCommand.hosts(deployment.getPlacedHostsList())
            + " and forget the deployment; its payloads stay stored and its sequence numbers are never reused.");
        err.flush();
        Console console = System.console();
        if (console == null) {
          throw CliException.usage("nothing was deleted: pass --yes to delete " + name
              + " when not on a terminal");
        }
        String typed = console.readLine("type the name (%s) to delete it: ", name);
        if (typed == null || !typed.strip().equals(name)) {
          throw new CliException("nothing was deleted: the name typed did not match " + name);
        }
      }
      DeleteDeploymentResponse response = connection.unary()
          .deleteDeployment(DeleteDeploymentRequest.newBuilder().setName(name).build());
      ctl.print(response, out -> out.println("deleted " + name + "; stopped on "
          + RestartCommand.hosts(response.getStoppedOnList()) + " (their agents stop its services)"));
    }
    return 0;
  }
}
