package io.infraveil.cli.ctl;

import io.infraveil.cli.CliException;
import io.infraveil.host.options.DurationConverter;
import io.infraveil.proto.v1.CreateDashboardSignInLinkRequest;
import io.infraveil.proto.v1.CreateDashboardSignInLinkResponse;
import io.infraveil.proto.v1.RevokeDashboardSessionsRequest;
import io.infraveil.proto.v1.RevokeDashboardSessionsResponse;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ctl dashboard}: a one-time link that signs a browser in to the HTTPS dashboard as
 * the operator of this context, or {@code --revoke-sessions} to end every such session.
 */
@Command(name = "dashboard", mixinStandardHelpOptions = true,
    description = "Print a one-time link that signs a browser in to the dashboard (short-lived, single use).")
final class DashboardCommand implements Callable<Integer> {

  @Option(names = "--session-ttl", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How long the browser session lasts, e.g. 1h, 12h (default: the control plane's, 12h; at most 7d).")
  Duration sessionTtl;

  @Option(names = "--base-url", paramLabel = "URL",
      description = "Address the browser reaches the control plane's HTTPS port at (a proxy, a tunnel);"
          + " default: the address the control plane binds.")
  URI baseUrl;

  @Option(names = "--revoke-sessions",
      description = "End every dashboard session and unused link of this operator instead.")
  boolean revoke;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      if (revoke) {
        RevokeDashboardSessionsResponse response = connection.dashboard()
            .revokeDashboardSessions(RevokeDashboardSessionsRequest.getDefaultInstance());
        ctl.print(response, out -> out.println(response.getSessionsRevoked() + " session(s) and "
            + response.getLinksRevoked() + " unused link(s) revoked"));
        return 0;
      }
      CreateDashboardSignInLinkRequest.Builder request = CreateDashboardSignInLinkRequest.newBuilder();
      if (sessionTtl != null) {
        if (sessionTtl.toSeconds() < 1) {
          throw CliException.usage("--session-ttl must be at least 1s, got " + sessionTtl);
        }
        request.setSessionTtlSeconds(sessionTtl.toSeconds());
      }
      CreateDashboardSignInLinkResponse response = connection.dashboard().createDashboardSignInLink(request.build());
      String url = baseUrl == null ? response.getUrl()
          : baseUrl.toString().replaceAll("/+$", "") + response.getPath();
      ctl.print(response.toBuilder().setUrl(url), out -> {
        out.println(url);
        out.println();
        out.println("Open it in a browser before " + Format.time(response.getExpiresAt())
            + "; it works once. The session lasts until " + Format.time(response.getSessionExpiresAt())
            + " (end it sooner with `infraveil ctl dashboard --revoke-sessions`).");
      });
    }
    return 0;
  }
}
