package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.metrics.MetricsTextFiles;
import io.infraveil.host.time.MutableClock;
import io.infraveil.proto.v1.AgentState;
import io.infraveil.proto.v1.AgentStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host's /metrics: the launcher's own metrics, counted from its action log, then every agent's file. */
class MetricsServerTest {

  @TempDir Path data;

  private static final String AGENT_FILE = """
      # HELP infraveil_agent_service_restarts_total Restarts of the service since the agent started
      # TYPE infraveil_agent_service_restarts_total counter
      infraveil_agent_service_restarts_total{deployment="web",service="api"} 3.0
      """;

  @Test
  void servesTheLaunchersMetricsThenEveryAgentsFile() throws Exception {
    Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    LauncherMetrics metrics = new LauncherMetrics(data, clock);
    metrics.watch(() -> List.of(
        AgentStatus.newBuilder().setDeployment("web").setState(AgentState.AGENT_STATE_RUNNING).build(),
        AgentStatus.newBuilder().setDeployment("shop").setState(AgentState.AGENT_STATE_SUSPENDED).build()),
        () -> 42);
    ByteArrayOutputStream shown = new ByteArrayOutputStream();
    LauncherLog log = new LauncherLog(new PrintStream(shown, true, StandardCharsets.UTF_8), clock, metrics::observe);
    log.event("sync_connected", "held_revision", 42, "detached_for", "none");
    log.event("crash", "deployment", "shop", "pid", 7, "crashes_in_window", 6, "decision", "SUSPEND",
        "reason", "CRASH_BUDGET_EXHAUSTED", "delay", "PT5M");
    log.event("crash", "deployment", "shop", "pid", 8, "crashes_in_window", 1, "decision", "RESTART",
        "reason", "WITHIN_BUDGET", "delay", "PT1S");
    log.event("payload_not_cached", "deployment", "web", "reason", "PAYLOAD_REJECTED_HASH_MISMATCH");
    log.event("stop_forced", "deployment", "old", "agent_exited_in_time", false,
        "services_killed", List.of(9));
    MetricsTextFiles.write(MetricsTextFiles.agentFile(data, "web"), AGENT_FILE);

    try (MetricsServer server = MetricsServer.start(0, metrics)) {
      HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + server.port() + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());

      assertEquals(200, response.statusCode());
      assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
      String body = response.body();
      assertTrue(body.contains("infraveil_launcher_agent_crashes_total 2.0\n"), body);
      assertTrue(body.contains("infraveil_launcher_agent_suspensions_total 1.0\n"), body);
      assertTrue(body.contains("infraveil_launcher_agent_stops_forced_total 1.0\n"), body);
      assertTrue(body.contains("infraveil_launcher_sync_connected 1.0\n"), body);
      assertTrue(body.contains("infraveil_launcher_desired_revision 42.0\n"), body);
      assertTrue(body.contains("infraveil_launcher_agents{state=\"running\"} 1.0\n"), body);
      assertTrue(body.contains("infraveil_launcher_agents{state=\"suspended\"} 1.0\n"), body);
      assertTrue(body.contains("infraveil_launcher_payload_prefetch_total{outcome=\"PAYLOAD_REJECTED_HASH_MISMATCH\"} 1.0\n"), body);
      assertTrue(body.endsWith(AGENT_FILE), body);
    }
    assertTrue(shown.toString(StandardCharsets.UTF_8).contains("action=crash deployment=shop"),
        "the log still reaches its stream unchanged");
  }

  @Test
  void detachedSecondsCountFromTheLostStream() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    LauncherMetrics metrics = new LauncherMetrics(data, clock);
    metrics.observe("sync_connected", Map.of("held_revision", "1"));
    metrics.observe("sync_lost", Map.of("error", "UNAVAILABLE: io", "retry_in", "PT1S"));
    clock.advance(Duration.ofSeconds(30));
    metrics.observe("sync_lost", Map.of("error", "UNAVAILABLE: io", "retry_in", "PT2S"));
    clock.advance(Duration.ofSeconds(15));

    String text = scrape(metrics);

    assertTrue(text.contains("infraveil_launcher_detached_seconds 45.0\n"), text);
    assertTrue(text.contains("infraveil_launcher_sync_reconnects_total 2.0\n"), text);
    assertTrue(text.contains("infraveil_launcher_sync_connected 0.0\n"), text);
  }

  // A refused identity shows as a gauge until the control plane accepts the host again.
  @Test
  void refusedIdentityIsAGaugeUntilAcceptedAgain() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    LauncherMetrics metrics = new LauncherMetrics(data, clock);
    metrics.observe("sync_connected", Map.of("held_revision", "1"));
    metrics.observe("sync_refused", Map.of("status", "PERMISSION_DENIED", "level", "0"));
    clock.advance(Duration.ofSeconds(90));
    metrics.observe("sync_refused", Map.of("status", "PERMISSION_DENIED", "level", "1"));

    String refused = scrape(metrics);
    assertTrue(refused.contains("infraveil_launcher_identity_refused 1.0\n"), refused);
    assertTrue(refused.contains("infraveil_launcher_identity_refusals_total 2.0\n"), refused);
    assertTrue(refused.contains("infraveil_launcher_detached_seconds 90.0\n"), refused);
    assertTrue(refused.contains("infraveil_launcher_sync_connected 0.0\n"), refused);

    metrics.observe("sync_connected", Map.of("held_revision", "1"));
    String accepted = scrape(metrics);
    assertTrue(accepted.contains("infraveil_launcher_identity_refused 0.0\n"), accepted);
  }

  @Test
  void portZeroTurnsMetricsOff() {
    ByteArrayOutputStream shown = new ByteArrayOutputStream();
    LauncherLog log = new LauncherLog(new PrintStream(shown, true, StandardCharsets.UTF_8), Clock.systemUTC());

    assertNull(MetricsServer.startUnlessOff(0, new LauncherMetrics(data, Clock.systemUTC()), log));
    assertTrue(shown.toString(StandardCharsets.UTF_8).contains("action=metrics_off reason=METRICS_PORT_0"));
  }

  private static String scrape(LauncherMetrics metrics) {
    try {
      return metrics.scrape();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void metricsBindAcceptsHostPortIpv6AndEveryAddressAndNamesWhatIsWrong() {
    assertEquals(new java.net.InetSocketAddress("0.0.0.0", 7081), MetricsServer.parseBind("0.0.0.0:7081"));
    assertEquals(new java.net.InetSocketAddress("::1", 9100), MetricsServer.parseBind("[::1]:9100"));
    assertEquals(new java.net.InetSocketAddress(7081), MetricsServer.parseBind(":7081"));
    for (String bad : List.of("7081", "0.0.0.0:x", "0.0.0.0:70000")) {
      var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> MetricsServer.parseBind(bad));
      assertTrue(e.getMessage().contains("--metrics-bind \"" + bad + "\""), e.getMessage());
    }
  }

  @Test
  void theDefaultBindIsLoopbackOnly() throws Exception {
    try (MetricsServer server = MetricsServer.start(0, new LauncherMetrics(data, Clock.systemUTC()))) {
      assertTrue(server.url().startsWith("http://127.0.0.1:"), server.url());
    }
  }
}
