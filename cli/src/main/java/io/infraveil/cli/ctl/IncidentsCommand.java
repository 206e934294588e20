package io.infraveil.cli.ctl;

import io.infraveil.cli.CliException;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.ListIncidentsRequest;
import io.infraveil.proto.v1.ListIncidentsResponse;
import io.infraveil.proto.v1.TimelineEntry;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ctl incidents [--open] [--timeline]} and {@code ctl incidents show ID}: incidents
 * opened and resolved by rules over reported state, with the correlated evidence of their
 * timelines.
 */
@Command(name = "incidents", mixinStandardHelpOptions = true,
    description = "List incidents, newest first; `show ID` prints one with its timeline.",
    subcommands = IncidentsCommand.Show.class)
final class IncidentsCommand implements Callable<Integer> {

  @Option(names = "--open", description = "Only incidents still open.")
  boolean openOnly;

  @Option(names = "--timeline", description = "Print each incident's timeline under it.")
  boolean timeline;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      ListIncidentsResponse response = connection.unary().listIncidents(
          ListIncidentsRequest.newBuilder().setOpenOnly(openOnly).build());
      ctl.print(response, out -> {
        if (!timeline) {
          printIncidents(response.getIncidentsList(), out);
          return;
        }
        if (response.getIncidentsCount() == 0) {
          out.println(openOnly ? "no open incidents" : "no incidents");
        }
        for (Incident incident : response.getIncidentsList()) {
          printIncident(incident, out);
          out.println();
        }
      });
    }
    return 0;
  }

  static void printIncidents(List<Incident> incidents, PrintWriter out) {
    Table table = new Table("ID", "RULE", "STATE", "HOST", "DEPLOYMENT", "SERVICE", "OPENED",
        "RESOLVED", "SUMMARY");
    for (Incident incident : incidents) {
      table.row(incident.getId(), incident.getRule(), Format.enumName(incident.getState()),
          incident.getHostName(), incident.getDeployment(), incident.getService(),
          Format.time(incident.getOpenedAt()), Format.time(incident.getResolvedAt()),
          incident.getSummary());
    }
    table.print(out, "no incidents");
  }

  /** One incident as a header and its timeline, oldest entry first. */
  static void printIncident(Incident incident, PrintWriter out) {
    out.println("incident " + incident.getId() + "  " + incident.getRule() + "  "
        + Format.enumName(incident.getState()));
    out.println("  " + incident.getSummary());
    out.println("  host " + orDash(incident.getHostName()) + ", deployment "
        + orDash(incident.getDeployment()) + ", service " + orDash(incident.getService()));
    out.println("  opened " + Format.time(incident.getOpenedAt())
        + (incident.getState() == IncidentState.INCIDENT_STATE_RESOLVED
            ? ", resolved " + Format.time(incident.getResolvedAt()) : ""));
    Table table = new Table("TIME", "SOURCE", "TEXT");
    for (TimelineEntry entry : incident.getTimelineList()) {
      table.row(Format.time(entry.getAt()), Format.enumName(entry.getSource()), entry.getText());
    }
    table.print(out, "no timeline entries");
  }

  private static String orDash(String value) {
    return value.isEmpty() ? "-" : value;
  }

  /** {@code ctl incidents show ID}: one incident and its whole timeline. */
  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "Print one incident with its timeline (time, source, text).")
  static final class Show implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "ID", description = "Incident id from `ctl incidents`.")
    String id;

    @ParentCommand IncidentsCommand incidents;

    @Override
    public Integer call() throws Exception {
      CtlCommand ctl = incidents.ctl;
      try (Connection connection = ctl.connect()) {
        Incident incident = connection.unary()
            .listIncidents(ListIncidentsRequest.newBuilder().setOpenOnly(false).build())
            .getIncidentsList().stream()
            .filter(candidate -> candidate.getId().equals(id))
            .findFirst()
            .orElseThrow(() -> new CliException("no incident " + id
                + " (resolved incidents are kept for the control plane's retention); "
                + "`infraveil ctl incidents` lists them"));
        ctl.print(incident, out -> printIncident(incident, out));
      }
      return 0;
    }
  }
}
