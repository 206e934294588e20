package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A host revoked while it runs a service, against the real control plane over real mTLS: the
 * launcher and the agent back off on the refusal ladder (30 s .. 5 min) instead of reconnecting
 * every second, the control plane records a handful of refusals instead of hundreds, and the
 * service keeps answering; the launcher says so in its log and its metrics.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RevokedHostBattleIT {

  private static final Duration UP = Duration.ofSeconds(60);
  /** How long the refused host is watched. */
  private static final Duration WATCH = Duration.ofSeconds(20);

  @Test
  void revokedHostBacksOffAndKeepsItsServiceRunning() throws Exception {
    try (Cluster cluster = Cluster.start(Cluster.runDir("RevokedHostBattleIT"))) {
      int metricsPort = Cluster.freePort();
      List<String> args = new ArrayList<>(Battle.fastHost()); // usual cap 3 s: refusals must not use it
      args.addAll(List.of("--metrics-port", String.valueOf(metricsPort)));
      Cluster.Host host = cluster.startHost("web-1", cluster.grpcEndpoint(), args);
      cluster.deploy(cluster.helloApp("v1"), "hello", "web-1");
      cluster.waitFor("hello answers", UP, () -> answers(cluster));
      cluster.waitFor("the agent saved the service's pid", UP,
          () -> cluster.servicePid("web-1", "hello", "hello").isPresent());
      long service = cluster.pidOfService("web-1", "hello", "hello");
      Node launcher = host.launcher();
      int logFrom = launcher.log().length();
      int eventsBefore = refusalsOf(cluster, "web-1").size();

      Instant revokedAt = Instant.now();
      cluster.ctlOk("revoke", "web-1", "--reason", "battle test");
      cluster.waitFor("the launcher logs the refusal", UP,
          () -> Battle.count(launcher.log(), logFrom, "action=sync_refused") > 0);
      long refusedAt = System.nanoTime();
      while (System.nanoTime() - refusedAt < WATCH.toNanos()) {
        assertTrue(answers(cluster), "the service keeps answering while the host is refused");
        Thread.sleep(1000);
      }

      String log = launcher.log();
      int attempts = Battle.count(log, logFrom, "action=sync_connect ");
      int refusedLines = Battle.count(log, logFrom, "action=sync_refused");
      List<JsonNode> rows = refusalsOf(cluster, "web-1");
      int events = rows.size() - eventsBefore;
      long minutesSpanned = ChronoUnit.MINUTES.between(revokedAt.truncatedTo(ChronoUnit.MINUTES),
          Instant.now().truncatedTo(ChronoUnit.MINUTES)) + 1;
      Cluster.timing("battle: revoked host, Sync attempts in 20 s = " + attempts
          + ", refusals recorded = " + events, Duration.ofNanos(System.nanoTime() - refusedAt));
      // The first refusal waits 15..30 s, the next 30..60 s: at most 2 reconnects in 20 s (the
      // old loop, reset whenever TLS was up, made one or more every second).
      assertTrue(attempts <= 2, "Sync attempts in 20 s while revoked: " + attempts + "\n" + log);
      assertTrue(refusedLines >= 1 && refusedLines <= attempts + 1,
          "sync_refused once per level: " + refusedLines + "\n" + log);
      // Every refusal of one kind from one caller in a minute shares a row, whichever stream
      // (Sync, Heartbeat, ShipLogs) was refused: one row per kind and minute, so at most one
      // per kind for each minute the run touched (the wait for the first refusal included).
      Map<String, Long> rowsPerKindAndMinute = rows.stream().collect(Collectors.groupingBy(
          row -> row.path("kind").asText() + " at minute "
              + Instant.parse(row.path("at").asText()).truncatedTo(ChronoUnit.MINUTES),
          Collectors.counting()));
      rowsPerKindAndMinute.forEach((key, count) ->
          assertEquals(1L, count, "refusals of one kind in one minute share a row: " + key));
      long kinds = rows.stream().map(row -> row.path("kind").asText()).distinct().count();
      assertTrue(events <= kinds * minutesSpanned, "refusal rows recorded: " + events
          + " of " + kinds + " kinds over " + minutesSpanned + " minute(s): " + rowsPerKindAndMinute);
      // The revocation itself closes the streams with PERMISSION_DENIED and is recorded once as
      // HOST_REVOKED; a refusal row appears only when the host comes back, 15..30 s later, which
      // may fall after this run's 20 s watch. Any reconnect it made must have been recorded.
      if (attempts > 0) {
        int before = eventsBefore;
        cluster.waitFor("the refused reconnect is recorded", Duration.ofSeconds(10),
            () -> refusalsOf(cluster, "web-1").size() - before >= 1);
      }
      assertEquals(service, cluster.pidOfService("web-1", "hello", "hello"),
          "the service was not restarted");
      String metrics = Cluster.httpGet(metricsPort, "/metrics").orElse("");
      assertTrue(metrics.contains("infraveil_launcher_identity_refused 1.0"), metrics);
      assertTrue(metrics.contains("infraveil_launcher_agents{state=\"running\"} 1.0"), metrics);
    }
  }

  private static boolean answers(Cluster cluster) {
    return Cluster.httpGet(cluster.helloPort(), "/").equals(Optional.of("v1"));
  }

  /** Security event rows refusing {@code host}'s certificate (newest 1000). */
  private static List<JsonNode> refusalsOf(Cluster cluster, String host) {
    List<JsonNode> rows = new ArrayList<>();
    for (JsonNode event : cluster.ctlJson("security-events", "--limit", "1000").path("events")) {
      if (event.path("identity").asText().endsWith("/host/" + host)
          && !event.path("kind").asText().equals("HOST_REVOKED")) {
        rows.add(event);
      }
    }
    return rows;
  }
}
