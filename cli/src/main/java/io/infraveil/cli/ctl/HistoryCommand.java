package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.ListRolloutsRequest;
import io.infraveil.proto.v1.ListRolloutsResponse;
import io.infraveil.proto.v1.Rollout;
import io.infraveil.proto.v1.RolloutHost;
import io.infraveil.proto.v1.RolloutHostState;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ctl history DEPLOYMENT}: every version it ran, newest first, with its outcome. */
@Command(name = "history", mixinStandardHelpOptions = true,
    description = "A deployment's versions, newest first: sequence, when, who, outcome.")
final class HistoryCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DEPLOYMENT", description = "Deployment name.")
  String deployment;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "At most N rollouts.")
  int limit;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      ListRolloutsResponse response = connection.rollouts().listRollouts(ListRolloutsRequest.newBuilder()
          .setDeployment(deployment).setLimit(limit).build());
      ctl.print(response, out -> {
        Table table = new Table("ID", "SEQUENCE", "VERSION", "ORIGIN", "STARTED", "BY", "OUTCOME", "HOSTS",
            "REASON");
        for (Rollout r : response.getRolloutsList()) {
          table.row(r.getId(), r.getPayload().getSequence(), r.getPayload().getVersion(), r.getOrigin(),
              Format.time(r.getStartedAt()), r.getStartedBy().replaceFirst("^spiffe://[^/]+/", ""),
              Format.enumName(r.getState()), hosts(r), r.getReason());
        }
        table.print(out, "no rollouts recorded for " + deployment);
      });
    }
    return 0;
  }

  /** Per-host results, for example {@code a:healthy b:reverted}. */
  private static String hosts(Rollout r) {
    StringBuilder out = new StringBuilder();
    for (RolloutHost h : r.getHostsList()) {
      if (out.length() > 0) {
        out.append(' ');
      }
      out.append(h.getHostName()).append(':').append(h.getState() == RolloutHostState.ROLLOUT_HOST_STATE_PENDING
          ? "not moved" : Format.enumName(h.getState()));
    }
    return out.toString();
  }
}
