package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.GetRolloutRequest;
import io.infraveil.proto.v1.Rollout;
import io.infraveil.proto.v1.RolloutHost;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ctl rollout status DEPLOYMENT [--watch]}: the latest rollout, host by host. */
@Command(name = "rollout", mixinStandardHelpOptions = true,
    description = "Rollouts of a deployment.", subcommands = RolloutCommand.Status.class)
final class RolloutCommand implements Runnable {

  @ParentCommand CtlCommand ctl;
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
        "missing command: rollout status DEPLOYMENT");
  }

  /** {@code rollout status}. */
  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Show the latest rollout of a deployment; --watch follows it until it ends "
          + "(exit 0 succeeded, 1 failed or reverted).")
  static final class Status implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DEPLOYMENT", description = "Deployment name.")
    String deployment;

    @Option(names = "--watch", description = "Follow the rollout until it ends.")
    boolean watch;

    @ParentCommand RolloutCommand parent;

    @Override
    public Integer call() throws Exception {
      CtlCommand ctl = parent.ctl;
      try (Connection connection = ctl.connect()) {
        Rollout rollout = connection.rollouts().getRollout(GetRolloutRequest.newBuilder()
            .setDeployment(deployment).build()).getRollout();
        if (!watch || RolloutProgress.terminal(rollout.getState())) {
          ctl.print(rollout, out -> print(rollout, out));
          return 0;
        }
        RolloutProgress.Result result = new RolloutProgress(connection, ctl.out(), System.console() != null)
            .await(deployment, rollout.getId(), Duration.ofDays(365));
        ctl.print(result.rollout(), out -> print(result.rollout(), out));
        if (result.outcome() == RolloutProgress.Outcome.FAILED) {
          RolloutProgress.printFailure(result.rollout(), ctl.err());
        }
        return result.outcome().exitCode;
      }
    }
  }

  static void print(Rollout r, PrintWriter out) {
    out.println(RolloutProgress.summary(r));
    out.println("  rollout " + r.getId() + " (" + r.getOrigin() + ") of " + Format.payload(r.getPayload())
        + " started " + Format.time(r.getStartedAt()) + " by " + r.getStartedBy());
    if (r.hasRevertTo()) {
      out.println("  reverts to: " + Format.payload(r.getRevertTo()));
    }
    var s = r.getStrategy();
    out.println("  strategy:   max_parallel " + s.getMaxParallel() + ", canary " + s.getCanary()
        + ", min_healthy_time " + s.getMinHealthyTime().getSeconds() + "s, healthy_deadline "
        + s.getHealthyDeadline().getSeconds() + "s, auto_promote " + s.getAutoPromote()
        + ", auto_revert " + s.getAutoRevert());
    if (!r.getReason().isEmpty()) {
      out.println("  reason:     " + r.getReason());
    }
    if (!r.getIncidentId().isEmpty()) {
      out.println("  incident:   " + r.getIncidentId());
    }
    Table table = new Table("HOST", "STATE", "BATCH", "CANARY", "ONLINE", "MOVED", "DETAIL");
    for (RolloutHost h : r.getHostsList()) {
      table.row(h.getHostName(), Format.enumName(h.getState()), h.getBatch() == 0 ? "" : h.getBatch(),
          h.getCanary() ? "yes" : "", h.getOnline() ? "yes" : "no", Format.time(h.getMovedAt()), h.getDetail());
    }
    table.print(out, "  no hosts placed");
  }
}
