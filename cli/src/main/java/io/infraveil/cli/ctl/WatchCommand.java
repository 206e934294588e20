package io.infraveil.cli.ctl;

import io.grpc.StatusRuntimeException;
import io.infraveil.proto.v1.WatchRequest;
import io.infraveil.proto.v1.WatchResponse;
import java.util.Iterator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ctl watch}: operational events as the control plane publishes them (host events,
 * incidents opening and resolving, security events, deployment changes, pipeline steps), one
 * line each, until Ctrl-C.
 */
@Command(name = "watch", mixinStandardHelpOptions = true,
    description = "Stream operational events as they happen, one per line (Ctrl-C to stop).")
final class WatchCommand implements Callable<Integer> {

  @Option(names = "--deployment", paramLabel = "D", description = "Only events of this deployment.")
  String deployment = "";

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect(); StreamStop stop = new StreamStop()) {
      Iterator<WatchResponse> events = stop.start(() -> connection.streaming()
          .watch(WatchRequest.newBuilder().setDeployment(deployment).build()));
      try {
        while (events.hasNext()) {
          WatchResponse event = events.next();
          ctl.printStreamed(event, out -> out.println(line(event)));
        }
      } catch (StatusRuntimeException e) {
        if (!stop.causedBy(e)) {
          throw e;
        }
      }
    }
    return 0;
  }

  /** {@code TIME  SOURCE  HOST  DEPLOYMENT  TEXT}, with "-" for what does not apply. */
  static String line(WatchResponse event) {
    return String.join("  ", Format.time(event.getAt()), Format.enumName(event.getSource()),
        orDash(event.getHostName()), orDash(event.getDeployment()), event.getText());
  }

  private static String orDash(String value) {
    return value.isEmpty() ? "-" : value;
  }
}
