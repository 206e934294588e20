package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.ListIncidentsRequest;
import io.infraveil.proto.v1.ListIncidentsResponse;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code ctl incidents}: incidents opened and resolved by rules over reported state. */
@Command(name = "incidents", mixinStandardHelpOptions = true,
    description = "List incidents, newest first.")
final class IncidentsCommand implements Callable<Integer> {

  @Option(names = "--open", description = "Only incidents still open.")
  boolean openOnly;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      ListIncidentsResponse response = connection.unary().listIncidents(
          ListIncidentsRequest.newBuilder().setOpenOnly(openOnly).build());
      ctl.print(response, out -> printIncidents(response.getIncidentsList(), out));
    }
    return 0;
  }

  static void printIncidents(List<Incident> incidents, PrintWriter out) {
    Table table = new Table("ID", "STATE", "RULE", "OPENED", "RESOLVED", "HOST", "DEPLOYMENT",
        "SERVICE", "SUMMARY");
    for (Incident incident : incidents) {
      table.row(incident.getId(), Format.enumName(incident.getState()), incident.getRule(),
          Format.time(incident.getOpenedAt()), Format.time(incident.getResolvedAt()),
          incident.getHostName(), incident.getDeployment(), incident.getService(),
          incident.getSummary());
    }
    table.print(out, "no incidents");
  }
}
