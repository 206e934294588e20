package io.infraveil.cli.ctl;

import io.grpc.StatusRuntimeException;
import io.infraveil.cli.CliException;
import io.infraveil.proto.v1.LogLine;
import io.infraveil.proto.v1.TailLogsRequest;
import io.infraveil.proto.v1.TailLogsResponse;
import java.util.Iterator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ctl logs DEPLOYMENT}: console lines the agents shipped, as the control plane keeps
 * them (the last 5,000 per deployment). Without {@code --follow} the call ends after the tail;
 * with it the stream stays open until Ctrl-C.
 */
@Command(name = "logs", mixinStandardHelpOptions = true,
    description = "Print recent console lines of a deployment; --follow keeps printing new ones.")
final class LogsCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DEPLOYMENT", description = "Deployment name.")
  String deployment;

  @Option(names = "--service", paramLabel = "S", description = "Only this service.")
  String service = "";

  @Option(names = {"-f", "--follow"}, description = "Keep the stream open for new lines (Ctrl-C to stop).")
  boolean follow;

  @Option(names = "--tail", paramLabel = "N", defaultValue = "100",
      description = "Recent lines to show first, 1 to 5000 (default: ${DEFAULT-VALUE}).")
  int tail;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    if (tail < 1 || tail > 5_000) {
      throw CliException.usage("--tail must be between 1 and 5000, got " + tail);
    }
    TailLogsRequest request = TailLogsRequest.newBuilder()
        .setDeployment(deployment).setService(service).setFollow(follow).setTail(tail).build();
    int printed = 0;
    try (Connection connection = ctl.connect(); StreamStop stop = new StreamStop()) {
      // Without --follow the call has the unary deadline, so a control plane that never ends
      // the stream cannot keep the command waiting.
      Iterator<TailLogsResponse> responses = stop.start(() ->
          (follow ? connection.streaming() : connection.unary()).tailLogs(request));
      try {
        while (responses.hasNext()) {
          TailLogsResponse batch = responses.next();
          printed += batch.getLinesCount();
          ctl.printStreamed(batch, out -> {
            for (LogLine line : batch.getLinesList()) {
              out.println(line(batch.getHostName(), line));
            }
          });
        }
      } catch (StatusRuntimeException e) {
        if (!stop.causedBy(e)) {
          throw e;
        }
      }
    }
    if (printed == 0 && !follow && !ctl.json()) {
      ctl.err().println("no console lines of " + deployment
          + (service.isEmpty() ? "" : " service " + service) + " yet");
      ctl.err().flush();
    }
    return 0;
  }

  /** {@code TIME HOST SERVICE[INDEX] STREAM: TEXT}. */
  static String line(String host, LogLine line) {
    return Format.time(line.getAt()) + " " + host + " " + line.getService() + "["
        + line.getClusterIndex() + "] " + Format.enumName(line.getStream()) + ": " + line.getText();
  }
}
