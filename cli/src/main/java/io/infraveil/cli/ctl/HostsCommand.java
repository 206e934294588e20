package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.Host;
import io.infraveil.proto.v1.ListHostsRequest;
import io.infraveil.proto.v1.ListHostsResponse;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code ctl hosts}: enrolled hosts and how they are connected. */
@Command(name = "hosts", mixinStandardHelpOptions = true,
    description = "List enrolled hosts with their connection state.")
final class HostsCommand implements Callable<Integer> {

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      ListHostsResponse response = connection.unary().listHosts(ListHostsRequest.getDefaultInstance());
      ctl.print(response, out -> printHosts(response.getHostsList(), out),
          out -> printHostsWide(response.getHostsList(), out));
    }
    return 0;
  }

  static void printHosts(List<Host> hosts, PrintWriter out) {
    Table table = new Table("NAME", "CONNECTION", "AGENTS", "REVISION", "LABELS", "LAST REPORT",
        "CERT EXPIRES");
    for (Host host : hosts) {
      table.row(host.getName(), Format.enumName(host.getConnection()), host.getAgentsCount(),
          host.getAckedRevision() + "/" + host.getDesiredRevision(), Format.labels(host.getLabelsMap()),
          Format.time(host.getLastReportAt()), Format.time(host.getCertificateNotAfter()));
    }
    table.print(out, "no hosts enrolled yet: make a join token with `infraveil ctl tokens create NAME`");
  }

  /** {@code -o wide}: the identity, enrollment time and every agent with its state too. */
  static void printHostsWide(List<Host> hosts, PrintWriter out) {
    Table table = new Table("NAME", "CONNECTION", "AGENTS", "REVISION", "LABELS", "LAST REPORT",
        "CERT EXPIRES", "ENROLLED", "IDENTITY", "AGENT STATES");
    for (Host host : hosts) {
      table.row(host.getName(), Format.enumName(host.getConnection()), host.getAgentsCount(),
          host.getAckedRevision() + "/" + host.getDesiredRevision(), Format.labels(host.getLabelsMap()),
          Format.time(host.getLastReportAt()), Format.time(host.getCertificateNotAfter()),
          Format.time(host.getEnrolledAt()), host.getIdentity(),
          host.getAgentsList().isEmpty() ? "-" : host.getAgentsList().stream()
              .map(a -> a.getDeployment() + "=" + Format.enumName(a.getState()))
              .collect(java.util.stream.Collectors.joining(",")));
    }
    table.print(out, "no hosts enrolled yet: make a join token with `infraveil ctl tokens create NAME`");
  }
}
