package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.ListSecurityEventsRequest;
import io.infraveil.proto.v1.ListSecurityEventsResponse;
import io.infraveil.proto.v1.SecurityEvent;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code ctl security-events}: refused and suspicious actions, newest first. */
@Command(name = "security-events", mixinStandardHelpOptions = true,
    description = "List recent security events, newest first.")
final class SecurityEventsCommand implements Callable<Integer> {

  @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
      description = "At most N events (default: ${DEFAULT-VALUE}).")
  int limit;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      ListSecurityEventsResponse response = connection.unary().listSecurityEvents(
          ListSecurityEventsRequest.newBuilder().setLimit(limit).build());
      ctl.print(response, out -> {
        // COUNT: identical events of one caller within the minute share a row.
        Table table = new Table("TIME", "KIND", "COUNT", "IDENTITY", "METHOD", "PEER", "MESSAGE");
        for (SecurityEvent event : response.getEventsList()) {
          table.row(Format.time(event.getAt()), event.getKind(),
              String.valueOf(Math.max(1, event.getOccurrences())), event.getIdentity(),
              event.getMethod(), event.getPeer(), event.getMessage());
        }
        table.print(out, "no security events");
      });
    }
    return 0;
  }
}
