package io.infraveil.controlplane.http;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.ops.OperationsViews.PublicDeployment;
import io.infraveil.controlplane.ops.OperationsViews.PublicIncident;
import io.infraveil.controlplane.ops.OperationsViews.PublicStatus;
import io.infraveil.proto.v1.CatalogInstance;
import io.infraveil.proto.v1.CatalogService;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.GetStatusResponse;
import io.infraveil.proto.v1.Host;
import io.infraveil.proto.v1.PipelineRun;
import io.infraveil.proto.v1.PipelineStep;
import io.infraveil.proto.v1.SecurityEvent;
import java.util.stream.Collectors;

/** HTML of the public status page and the operator dashboard, rendered on the server. */
final class Pages {

  private Pages() {}

  static final String STYLE = """
      <style>
        :root { color-scheme: light; --ok:#1a7f37; --warn:#9a6700; --bad:#cf222e; --muted:#57606a; --line:#d0d7de; }
        * { box-sizing: border-box; }
        body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color:#1f2328; background:#f6f8fa; }
        header { background:#24292f; color:#fff; padding: 18px 32px; display:flex; align-items:baseline; gap:16px; }
        header h1 { margin:0; font-size: 20px; font-weight: 600; }
        header .sub { color:#afb8c1; font-size: 13px; }
        main { max-width: 1100px; margin: 24px auto; padding: 0 24px; }
        section { background:#fff; border:1px solid var(--line); border-radius: 8px; margin-bottom: 20px; padding: 16px 20px; }
        h2 { font-size: 16px; margin: 0 0 12px; }
        table { width:100%; border-collapse: collapse; font-size: 14px; }
        th, td { text-align:left; padding: 6px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
        th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
        .badge { display:inline-block; padding: 1px 10px; border-radius: 999px; font-size: 12px; font-weight: 600; color:#fff; background: var(--muted); }
        .healthy, .operational, .online, .OPEN-no { background: var(--ok); }
        .degraded, .pending, .updating, .detached { background: var(--warn); }
        .serving-previous-version { background: #0969da; }
        .failed, .outage, .offline, .OPEN { background: var(--bad); }
        .RESOLVED { background: var(--muted); }
        .banner { font-size: 18px; font-weight: 600; padding: 14px 20px; border-radius: 8px; color:#fff; margin-bottom: 20px; }
        .counts { display:flex; gap: 24px; }
        .counts div { font-size: 13px; color: var(--muted); }
        .counts b { display:block; font-size: 24px; color:#1f2328; }
        .muted { color: var(--muted); font-size: 13px; }
        .timeline { margin: 6px 0 0; padding: 0; list-style: none; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; }
        .timeline li { padding: 1px 0; white-space: pre-wrap; word-break: break-word; }
        .src { display:inline-block; min-width: 76px; color: var(--muted); }
        code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
      </style>
      """;

  static String status(PublicStatus status) {
    StringBuilder html = new StringBuilder();
    html.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>Status — Infraveil</title>").append(STYLE).append("</head><body>")
        .append("<header><h1>Service status</h1><span class=\"sub\">built from what the servers report</span></header>")
        .append("<main id=\"status\">").append(statusBody(status)).append("</main>")
        .append("<script>").append(STATUS_SCRIPT).append("</script></body></html>");
    return html.toString();
  }

  static String statusBody(PublicStatus s) {
    StringBuilder html = new StringBuilder();
    html.append("<div class=\"banner ").append(e(s.overall())).append("\" id=\"overall\">")
        .append(switch (s.overall()) {
          case "operational" -> "All systems operational";
          case "outage" -> "Outage";
          default -> "Degraded service";
        }).append("</div>");
    html.append("<section><h2>Servers</h2><div class=\"counts\">")
        .append(count("total", s.hosts().total())).append(count("online", s.hosts().online()))
        .append(count("detached", s.hosts().detached())).append(count("offline", s.hosts().offline()))
        .append("</div></section>");
    html.append("<section><h2>Deployments</h2>");
    if (s.deployments().isEmpty()) {
      html.append("<p class=\"muted\">No deployments yet.</p>");
    } else {
      html.append("<table><thead><tr><th>Deployment</th><th>Status</th><th>Servers serving</th></tr></thead><tbody>");
      for (PublicDeployment d : s.deployments()) {
        html.append("<tr class=\"deployment\"><td><b>").append(e(d.name())).append("</b></td><td><span class=\"badge ")
            .append(e(d.health())).append("\">").append(e(d.summary())).append("</span></td><td>")
            .append(d.hostsServing()).append(" / ").append(d.hostsTotal()).append("</td></tr>");
      }
      html.append("</tbody></table>");
    }
    html.append("</section><section><h2>Open incidents</h2>");
    if (s.openIncidents().isEmpty()) {
      html.append("<p class=\"muted\">No open incidents.</p>");
    } else {
      html.append("<table><thead><tr><th>Since</th><th>What</th><th>Deployment</th><th>Servers</th></tr></thead><tbody>");
      for (PublicIncident i : s.openIncidents()) {
        html.append("<tr class=\"incident\"><td>").append(e(i.since())).append("</td><td>").append(e(i.title()))
            .append("</td><td>").append(e(i.deployment())).append("</td><td>").append(i.hosts()).append("</td></tr>");
      }
      html.append("</tbody></table>");
    }
    html.append("</section><p class=\"muted\">Updated <span id=\"generated\">").append(e(s.generatedAt()))
        .append("</span>; refreshes every 5 s.</p>");
    return html.toString();
  }

  /** Polls /status.json and re-renders the page body with the same markup as the server. */
  private static final String STATUS_SCRIPT = """
      (function () {
        function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
          return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]; }); }
        function count(label, n) { return '<div><b>' + n + '</b>' + label + '</div>'; }
        function render(s) {
          var title = s.overall === 'operational' ? 'All systems operational' : s.overall === 'outage' ? 'Outage' : 'Degraded service';
          var h = '<div class="banner ' + esc(s.overall) + '" id="overall">' + title + '</div>';
          h += '<section><h2>Servers</h2><div class="counts">' + count('total', s.hosts.total) + count('online', s.hosts.online)
            + count('detached', s.hosts.detached) + count('offline', s.hosts.offline) + '</div></section>';
          h += '<section><h2>Deployments</h2>';
          if (!s.deployments.length) { h += '<p class="muted">No deployments yet.</p>'; } else {
            h += '<table><thead><tr><th>Deployment</th><th>Status</th><th>Servers serving</th></tr></thead><tbody>';
            s.deployments.forEach(function (d) {
              h += '<tr class="deployment"><td><b>' + esc(d.name) + '</b></td><td><span class="badge ' + esc(d.health) + '">'
                + esc(d.summary) + '</span></td><td>' + d.hostsServing + ' / ' + d.hostsTotal + '</td></tr>';
            });
            h += '</tbody></table>';
          }
          h += '</section><section><h2>Open incidents</h2>';
          if (!s.openIncidents.length) { h += '<p class="muted">No open incidents.</p>'; } else {
            h += '<table><thead><tr><th>Since</th><th>What</th><th>Deployment</th><th>Servers</th></tr></thead><tbody>';
            s.openIncidents.forEach(function (i) {
              h += '<tr class="incident"><td>' + esc(i.since) + '</td><td>' + esc(i.title) + '</td><td>' + esc(i.deployment)
                + '</td><td>' + i.hosts + '</td></tr>';
            });
            h += '</tbody></table>';
          }
          h += '</section><p class="muted">Updated <span id="generated">' + esc(s.generatedAt) + '</span>; refreshes every 5 s.</p>';
          document.getElementById('status').innerHTML = h;
        }
        function poll() {
          fetch('/status.json', {cache: 'no-store'}).then(function (r) { return r.json(); }).then(render)
            .catch(function () { /* keep the last view; try again */ });
        }
        setInterval(poll, 5000);
      })();
      """;

  static String dashboard(GetStatusResponse ops, String who, boolean session) {
    java.time.Instant now = ProtoTime.instant(ops.getGeneratedAt());
    StringBuilder html = new StringBuilder();
    html.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta http-equiv=\"refresh\" content=\"10\">")
        .append("<title>Operations — Infraveil</title>").append(STYLE).append("</head><body>")
        .append(DashboardPages.header("Operations", who, now, session)).append("<main>");
    html.append("<section><h2>Hosts</h2><table><thead><tr><th>Host</th><th>Connection</th><th>Last report</th>")
        .append("<th>Agents</th></tr></thead><tbody>");
    for (Host h : ops.getHostsList()) {
      String connection = h.getConnection().name().replace("HOST_CONNECTION_", "").toLowerCase();
      html.append("<tr><td>").append(DashboardPages.hostLink(h.getName())).append("</td><td><span class=\"badge ")
          .append(connection).append("\">").append(connection).append("</span></td><td>")
          .append(h.hasLastReportAt() ? DashboardPages.time(h.getLastReportAt(), now) : "never")
          .append("</td><td>").append(e(h.getAgentsList().stream()
              .map(a -> a.getDeployment() + " " + a.getState().name().replace("AGENT_STATE_", ""))
              .collect(Collectors.joining(", ")))).append("</td></tr>");
    }
    html.append("</tbody></table></section>");
    html.append("<section><h2>Deployments</h2><table><thead><tr><th>Deployment</th><th>Version</th>")
        .append("<th>Rollout</th><th>Per host</th></tr></thead><tbody>");
    for (Deployment d : ops.getDeploymentsList()) {
      var p = d.getProgress();
      html.append("<tr><td>").append(DashboardPages.deploymentLink(d.getName())).append(d.getPaused() ? " (paused)" : "")
          .append("</td><td>").append(e(d.getPayload().getVersion())).append(" <code>")
          .append(e(shortSha(d.getPayload().getSha256()))).append("</code></td><td>")
          .append(p.getHostsUpdated()).append(" updated, ").append(p.getHostsHealthy()).append(" healthy, ")
          .append(p.getHostsFailed()).append(" failed of ").append(p.getHostsTotal()).append("</td><td>");
      d.getOnHostsList().forEach(on -> html.append(e(on.getHostName())).append(": ")
          .append(e(on.getPayload().getVersion().isEmpty() ? shortSha(on.getPayload().getSha256()) : on.getPayload().getVersion()))
          .append(' ').append(on.getVersionStatus().name().replace("VERSION_STATUS_", "")).append("<br>"));
      html.append("</td></tr>");
    }
    html.append("</tbody></table></section>");
    // What the stored deployments record today: current and previous version per deployment.
    // Stored rollouts (one row per version with its per-host outcome) extend this table.
    html.append("<section><h2>Deployment history</h2><table><thead><tr><th>Deployment</th><th>Current</th>")
        .append("<th>Previous</th><th>Generation</th><th>Changed</th><th>Warnings</th></tr></thead><tbody>");
    for (Deployment d : ops.getDeploymentsList()) {
      html.append("<tr class=\"history\"><td><b>").append(e(d.getName())).append("</b></td><td>")
          .append(e(d.getPayload().getVersion())).append(" (sequence ").append(d.getPayload().getSequence())
          .append(")</td><td>").append(d.hasPreviousPayload() ? e(d.getPreviousPayload().getVersion())
              + " (sequence " + d.getPreviousPayload().getSequence() + ")" : "none").append("</td><td>")
          .append(d.getGeneration()).append("</td><td>")
          .append(d.hasUpdatedAt() ? e(ProtoTime.instant(d.getUpdatedAt()).toString()) : "").append("</td><td>")
          .append(e(String.join("; ", d.getPlacementWarningsList()))).append("</td></tr>");
    }
    html.append("</tbody></table></section>");
    html.append("<section><h2>Services</h2><table><thead><tr><th>Deployment</th><th>Service</th><th>Instances</th>")
        .append("</tr></thead><tbody>");
    for (CatalogService s : ops.getCatalogList()) {
      html.append("<tr><td>").append(e(s.getDeployment())).append("</td><td><b>").append(e(s.getService()))
          .append("</b></td><td>");
      for (CatalogInstance i : s.getInstancesList()) {
        html.append(e(i.getHostName())).append(": ").append(i.getState().name().replace("SERVICE_STATE_", ""))
            .append(" / ").append(i.getHealth().name().replace("HEALTH_STATUS_", ""))
            .append(i.getRestartsTotal() > 0 ? ", " + i.getRestartsTotal() + " restarts" : "").append("<br>");
      }
      html.append("</td></tr>");
    }
    html.append("</tbody></table></section>");
    html.append(DashboardPages.incidents(ops.getIncidentsList(), i -> true, now));
    html.append("<section><h2>Pipeline</h2><table><thead><tr><th>Host</th><th>Deployment</th><th>Payload</th>")
        .append("<th>Steps</th></tr></thead><tbody>");
    for (PipelineRun r : ops.getPipelineList()) {
      html.append("<tr><td>").append(e(r.getHostName())).append("</td><td>").append(e(r.getDeployment()))
          .append("</td><td>").append(e(r.getPayload().getVersion())).append(" <code>")
          .append(e(shortSha(r.getPayload().getSha256()))).append("</code></td><td>");
      for (PipelineStep step : r.getStepsList()) {
        html.append(step.getStage().name().replace("PIPELINE_STAGE_", "").toLowerCase()).append(" ")
            .append(DashboardPages.time(step.getAt(), now)).append("<br>");
      }
      html.append("</td></tr>");
    }
    html.append("</tbody></table></section>");
    html.append("<section><h2>Security events</h2><table><thead><tr><th>At</th><th>Kind</th><th>Who</th>")
        .append("<th>What</th></tr></thead><tbody>");
    for (SecurityEvent s : ops.getSecurityEventsList()) {
      html.append("<tr><td>").append(DashboardPages.time(s.getAt(), now)).append("</td><td>")
          .append(e(s.getKind())).append("</td><td>").append(e(s.getIdentity().isEmpty() ? s.getPeer() : s.getIdentity()))
          .append("</td><td>").append(e(s.getMessage())).append("</td></tr>");
    }
    html.append("</tbody></table></section></main></body></html>");
    return html.toString();
  }

  private static String count(String label, int n) {
    return "<div><b>" + n + "</b>" + label + "</div>";
  }

  private static String shortSha(String sha) {
    return sha.length() > 12 ? sha.substring(0, 12) : sha;
  }

  static String e(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
