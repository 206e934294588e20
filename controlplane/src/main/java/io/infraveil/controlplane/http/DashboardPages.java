package io.infraveil.controlplane.http;

import static io.infraveil.controlplane.http.Pages.e;

import io.infraveil.controlplane.dashboard.DashboardPaths;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.proto.v1.AgentStatus;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.DeploymentOnHost;
import io.infraveil.proto.v1.GetStatusResponse;
import io.infraveil.proto.v1.Host;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.ServiceStatus;
import io.infraveil.proto.v1.TimelineEntry;
import com.google.protobuf.Timestamp;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The dashboard's page structure: sign-in pages, the per-host and per-deployment pages, and
 * the pieces every dashboard page shares (header with sign-out, relative times, incidents
 * with the resolved ones collapsed).
 */
final class DashboardPages {

  private DashboardPages() {}

  static final String HOW_TO_SIGN_IN = "Run <code>infraveil ctl dashboard</code> on a machine that holds your "
      + "operator certificate: it prints a one-time link that signs this browser in. A token from "
      + "<code>infraveil ctl tokens create-api</code> can ask for one too (<code>POST "
      + DashboardPaths.SIGN_IN_LINKS + "</code> with <code>Authorization: Bearer</code>), and a browser "
      + "holding an operator certificate (<code>infraveil certs issue --operator NAME --p12</code>) needs no link.";

  /** Served with 401 to a browser that is not signed in (or whose session ended). */
  static String signIn(String why) {
    return page("Sign in — Infraveil", "<header><h1>Operations</h1><span class=\"sub\">sign in required</span></header>"
        + "<main><section id=\"sign-in\"><h2>Sign in to the dashboard</h2><p>" + e(why) + "</p><p>"
        + HOW_TO_SIGN_IN + "</p><p class=\"muted\">Links work once, for a few minutes; the session they open "
        + "ends on its own, or earlier with <code>infraveil ctl dashboard --revoke-sessions</code>.</p>"
        + "<p><a href=\"/status\">Public status page</a></p></section></main>");
  }

  /** Served once a link was redeemed: the navigation to the dashboard starts on this site, so the strict cookie goes along. */
  static String signedIn(String who) {
    return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        + "<meta http-equiv=\"refresh\" content=\"0;url=/dashboard\"><title>Signed in — Infraveil</title>"
        + Pages.STYLE + "</head><body><header><h1>Operations</h1><span class=\"sub\">signed in as " + e(who)
        + "</span></header><main><section><p>Signed in. <a href=\"/dashboard\">Open the dashboard</a>.</p>"
        + "</section></main></body></html>";
  }

  /** The header every dashboard page shows: who, when, navigation, and sign-out for a browser session. */
  static String header(String title, String who, Instant generated, boolean session) {
    return "<header><h1>" + e(title) + "</h1><span class=\"sub\">signed in as <span id=\"who\">" + e(who)
        + "</span> · generated " + time(generated, generated) + "</span><nav style=\"margin-left:auto\">"
        + "<a style=\"color:#fff\" href=\"/dashboard\">Overview</a>"
        + (session ? " <form method=\"post\" action=\"" + DashboardPaths.SIGN_OUT + "\" style=\"display:inline\">"
        + "<button type=\"submit\">Sign out</button></form>" : "")
        + "</nav></header>";
  }

  static String host(GetStatusResponse ops, String name, String who, boolean session) {
    Instant now = ProtoTime.instant(ops.getGeneratedAt());
    Optional<Host> found = ops.getHostsList().stream().filter(h -> h.getName().equals(name)).findFirst();
    StringBuilder html = new StringBuilder(header("Host " + name, who, now, session)).append("<main>");
    if (found.isEmpty()) {
      return page("Host " + name + " — Infraveil", html.append("<section><p>No host named ").append(e(name))
          .append(" is enrolled.</p></section></main>").toString());
    }
    Host h = found.get();
    String connection = h.getConnection().name().replace("HOST_CONNECTION_", "").toLowerCase();
    html.append("<section id=\"host\"><h2>").append(e(name)).append(" <span class=\"badge ").append(connection)
        .append("\">").append(connection).append("</span></h2><table><tbody>")
        .append(row("Identity", "<code>" + e(h.getIdentity()) + "</code>"))
        .append(row("Last report", h.hasLastReportAt() ? time(h.getLastReportAt(), now) : "never"))
        .append(row("Enrolled", time(h.getEnrolledAt(), now)))
        .append(row("Certificate until", time(h.getCertificateNotAfter(), now)))
        .append(row("Desired state", "revision " + h.getDesiredRevision() + ", acknowledged " + h.getAckedRevision()))
        .append(row("Labels", e(h.getLabelsMap().toString())))
        .append("</tbody></table></section>");
    html.append("<section><h2>Agents</h2><table><thead><tr><th>Deployment</th><th>State</th><th>Pid</th>")
        .append("<th>Started</th><th>Crashes in window</th><th>Reason</th></tr></thead><tbody>");
    for (AgentStatus a : h.getAgentsList()) {
      html.append("<tr><td>").append(deploymentLink(a.getDeployment())).append("</td><td>")
          .append(a.getState().name().replace("AGENT_STATE_", "")).append("</td><td>").append(a.getPid())
          .append("</td><td>").append(a.hasStartedAt() ? time(a.getStartedAt(), now) : "")
          .append("</td><td>").append(a.getCrashesInWindow()).append("</td><td>").append(e(a.getReason()))
          .append("</td></tr>");
    }
    html.append("</tbody></table></section>");
    html.append("<section><h2>Services</h2><table><thead><tr><th>Deployment</th><th>Version</th><th>Service</th>")
        .append("<th>State</th><th>Restarts</th><th>Last heartbeat</th></tr></thead><tbody>");
    for (Deployment d : ops.getDeploymentsList()) {
      for (DeploymentOnHost on : d.getOnHostsList()) {
        if (on.getHostName().equals(name)) {
          for (ServiceStatus s : on.getServicesList()) {
            html.append("<tr><td>").append(deploymentLink(d.getName())).append("</td><td>")
                .append(e(on.getPayload().getVersion())).append(' ')
                .append(on.getVersionStatus().name().replace("VERSION_STATUS_", "")).append("</td><td><b>")
                .append(e(s.getName())).append("</b></td><td>").append(serviceState(s)).append("</td><td>")
                .append(s.getRestartsTotal()).append("</td><td>")
                .append(on.hasLastHeartbeatAt() ? time(on.getLastHeartbeatAt(), now) : "").append("</td></tr>");
          }
        }
      }
    }
    html.append("</tbody></table></section>");
    html.append(incidents(ops.getIncidentsList(), i -> i.getHostName().equals(name), now));
    return page("Host " + name + " — Infraveil", html.append("</main>").toString());
  }

  static String deployment(GetStatusResponse ops, String name, String who, boolean session) {
    Instant now = ProtoTime.instant(ops.getGeneratedAt());
    Optional<Deployment> found = ops.getDeploymentsList().stream().filter(d -> d.getName().equals(name)).findFirst();
    StringBuilder html = new StringBuilder(header("Deployment " + name, who, now, session)).append("<main>");
    if (found.isEmpty()) {
      return page("Deployment " + name + " — Infraveil", html.append("<section><p>No deployment named ")
          .append(e(name)).append(".</p></section></main>").toString());
    }
    Deployment d = found.get();
    var p = d.getProgress();
    html.append("<section id=\"deployment\"><h2>").append(e(name)).append(d.getPaused() ? " (paused)" : "")
        .append("</h2><table><tbody>")
        .append(row("Version", e(d.getPayload().getVersion()) + " <code>" + e(shortSha(d.getPayload().getSha256()))
            + "</code>"))
        .append(row("Previous", d.hasPreviousPayload() ? e(d.getPreviousPayload().getVersion()) : "none"))
        .append(row("Generation", String.valueOf(d.getGeneration())))
        .append(row("Updated", d.hasUpdatedAt() ? time(d.getUpdatedAt(), now) : ""))
        .append(row("Rollout", p.getHostsUpdated() + " updated, " + p.getHostsHealthy() + " healthy, "
            + p.getHostsFailed() + " failed of " + p.getHostsTotal()))
        .append(row("Placed on", String.join(", ", d.getPlacedHostsList().stream().map(DashboardPages::hostLink).toList())))
        .append("</tbody></table></section>");
    html.append("<section><h2>Per host</h2><table><thead><tr><th>Host</th><th>Version</th><th>Service</th>")
        .append("<th>State</th><th>Restarts</th><th>Last heartbeat</th></tr></thead><tbody>");
    for (DeploymentOnHost on : d.getOnHostsList()) {
      List<ServiceStatus> services = on.getServicesList();
      String version = e(on.getPayload().getVersion()) + " " + on.getVersionStatus().name().replace("VERSION_STATUS_", "");
      String beat = on.hasLastHeartbeatAt() ? time(on.getLastHeartbeatAt(), now) : "";
      if (services.isEmpty()) {
        html.append("<tr><td>").append(hostLink(on.getHostName())).append("</td><td>").append(version)
            .append("</td><td></td><td></td><td></td><td>").append(beat).append("</td></tr>");
      }
      for (ServiceStatus s : services) {
        html.append("<tr><td>").append(hostLink(on.getHostName())).append("</td><td>").append(version)
            .append("</td><td><b>").append(e(s.getName())).append("</b></td><td>").append(serviceState(s))
            .append("</td><td>").append(s.getRestartsTotal()).append("</td><td>").append(beat).append("</td></tr>");
      }
    }
    html.append("</tbody></table></section>");
    html.append(incidents(ops.getIncidentsList(), i -> i.getDeployment().equals(name), now));
    return page("Deployment " + name + " — Infraveil", html.append("</main>").toString());
  }

  /** Open incidents in full; resolved ones inside a closed {@code <details>}. */
  static String incidents(List<Incident> all, Predicate<Incident> which, Instant now) {
    List<Incident> open = all.stream().filter(which).filter(i -> i.getState() == IncidentState.INCIDENT_STATE_OPEN).toList();
    List<Incident> resolved = all.stream().filter(which)
        .filter(i -> i.getState() != IncidentState.INCIDENT_STATE_OPEN).toList();
    StringBuilder html = new StringBuilder("<section id=\"incidents\"><h2>Incidents</h2>");
    if (open.isEmpty()) {
      html.append("<p class=\"muted\">No open incidents.</p>");
    }
    open.forEach(i -> html.append(incident(i, now)));
    if (!resolved.isEmpty()) {
      html.append("<details class=\"resolved\"><summary>").append(resolved.size()).append(" resolved incident")
          .append(resolved.size() == 1 ? "" : "s").append("</summary>");
      resolved.forEach(i -> html.append(incident(i, now)));
      html.append("</details>");
    }
    return html.append("</section>").toString();
  }

  private static String incident(Incident i, Instant now) {
    String state = i.getState() == IncidentState.INCIDENT_STATE_OPEN ? "OPEN" : "RESOLVED";
    StringBuilder html = new StringBuilder("<div class=\"incident\" style=\"margin-bottom:14px\"><span class=\"badge ")
        .append(state).append("\">").append(state).append("</span> <b>").append(e(i.getRule())).append("</b> <code>")
        .append(e(i.getId())).append("</code>");
    if (!i.getHostName().isEmpty()) {
      html.append(" on ").append(hostLink(i.getHostName()));
    }
    if (!i.getDeployment().isEmpty()) {
      html.append(" in ").append(deploymentLink(i.getDeployment()));
    }
    html.append("<div>").append(e(i.getSummary())).append("</div><div class=\"muted\">opened ")
        .append(time(i.getOpenedAt(), now))
        .append(i.hasResolvedAt() ? ", resolved " + time(i.getResolvedAt(), now) : "")
        .append("</div><ul class=\"timeline\">");
    for (TimelineEntry t : i.getTimelineList()) {
      html.append("<li>").append(time(t.getAt(), now)).append(" <span class=\"src\">")
          .append(t.getSource().name().replace("EVIDENCE_SOURCE_", "")).append("</span> ")
          .append(e(t.getText())).append("</li>");
    }
    return html.append("</ul></div>").toString();
  }

  static String hostLink(String host) {
    return "<a href=\"/dashboard/hosts/" + e(URLEncoder.encode(host, StandardCharsets.UTF_8)) + "\"><b>" + e(host)
        + "</b></a>";
  }

  static String deploymentLink(String deployment) {
    return "<a href=\"/dashboard/deployments/" + e(URLEncoder.encode(deployment, StandardCharsets.UTF_8)) + "\"><b>"
        + e(deployment) + "</b></a>";
  }

  static String time(Timestamp at, Instant now) {
    return time(ProtoTime.instant(at), now);
  }

  /** A relative time ("3 min ago") with the exact instant in its title and datetime. */
  static String time(Instant at, Instant now) {
    return "<time datetime=\"" + at + "\" title=\"" + at + "\">" + ago(at, now) + "</time>";
  }

  static String ago(Instant at, Instant now) {
    Duration d = Duration.between(at, now);
    boolean future = d.isNegative();
    long s = Math.abs(d.toSeconds());
    String amount;
    if (s < 5) {
      return "just now";
    } else if (s < 90) {
      amount = s + " s";
    } else if (s < 90 * 60) {
      amount = Math.round(s / 60.0) + " min";
    } else if (s < 36 * 3600) {
      amount = Math.round(s / 3600.0) + " h";
    } else {
      amount = Math.round(s / 86400.0) + " d";
    }
    return future ? "in " + amount : amount + " ago";
  }

  private static String serviceState(ServiceStatus s) {
    return s.getState().name().replace("SERVICE_STATE_", "") + " / " + s.getHealth().name().replace("HEALTH_STATUS_", "");
  }

  private static String row(String label, String valueHtml) {
    return "<tr><th>" + e(label) + "</th><td>" + valueHtml + "</td></tr>";
  }

  private static String shortSha(String sha) {
    return sha.length() > 12 ? sha.substring(0, 12) : sha;
  }

  private static String page(String title, String body) {
    return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" + e(title) + "</title>"
        + Pages.STYLE + "</head><body>" + body + "</body></html>";
  }

  /** Pages that refresh themselves, as the overview does. */
  static String refreshing(String html) {
    return html.replace("<head>", "<head><meta http-equiv=\"refresh\" content=\"10\">");
  }
}
