package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.LogLine;
import io.infraveil.proto.v1.TailLogsRequest;
import io.infraveil.proto.v1.TailLogsResponse;
import java.util.Iterator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ctl logs DEPLOYMENT}: console lines shipped by the agents. */
@Command(name = "logs", mixinStandardHelpOptions = true,
    description = "Print recent console lines of a deployment; --follow keeps printing new ones.")
final class LogsCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DEPLOYMENT", description = "Deployment name.")
  String deployment;

  @Option(names = "--service", paramLabel = "S", description = "Only this service.")
  String service = "";

  @Option(names = {"-f", "--follow"}, description = "Keep the stream open for new lines.")
  boolean follow;

  @Option(names = "--tail", paramLabel = "N", defaultValue = "100",
      description = "Recent lines to show first (default: ${DEFAULT-VALUE}).")
  int tail;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      var stub = follow ? connection.streaming() : connection.unary();
      Iterator<TailLogsResponse> responses = stub.tailLogs(TailLogsRequest.newBuilder()
          .setDeployment(deployment).setService(service).setFollow(follow).setTail(tail).build());
      while (responses.hasNext()) {
        TailLogsResponse batch = responses.next();
        ctl.printStreamed(batch, out -> {
          for (LogLine line : batch.getLinesList()) {
            out.println(Format.time(line.getAt()) + " " + batch.getHostName() + " "
                + line.getService() + "[" + line.getClusterIndex() + "] "
                + Format.enumName(line.getStream()) + ": " + line.getText());
          }
        });
      }
    }
    return 0;
  }
}
