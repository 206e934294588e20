package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.WatchRequest;
import io.infraveil.proto.v1.WatchResponse;
import java.util.Iterator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code ctl watch}: operational events as they happen, until interrupted. */
@Command(name = "watch", mixinStandardHelpOptions = true,
    description = "Stream operational events as they happen (Ctrl-C to stop).")
final class WatchCommand implements Callable<Integer> {

  @Option(names = "--deployment", paramLabel = "D", description = "Only events of this deployment.")
  String deployment = "";

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      Iterator<WatchResponse> events = connection.streaming()
          .watch(WatchRequest.newBuilder().setDeployment(deployment).build());
      while (events.hasNext()) {
        WatchResponse event = events.next();
        ctl.printStreamed(event, out -> out.println(String.join("  ",
            Format.time(event.getAt()), Format.enumName(event.getSource()),
            orDash(event.getHostName()), orDash(event.getDeployment()),
            event.getKind() == EventKind.EVENT_KIND_UNSPECIFIED ? "-" : Format.enumName(event.getKind()),
            event.getText())));
      }
    }
    return 0;
  }

  private static String orDash(String value) {
    return value.isEmpty() ? "-" : value;
  }
}
