package io.infraveil.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.agent.AgentEvent;
import io.infraveil.agent.AgentSnapshot;
import io.infraveil.agent.Health;
import io.infraveil.agent.ServiceState;
import io.infraveil.agent.VersionStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's metrics reflect its snapshot and events, and the file parses as Prometheus text. */
class AgentMetricsTest {

  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;

  private static AgentSnapshot snapshot(long apiRestarts, ServiceState workerState, int queued, long dropped) {
    return new AgentSnapshot(NOW, Optional.of("a".repeat(64)), VersionStatus.KNOWN_GOOD, Optional.empty(),
        List.of(service("api", ServiceState.RUNNING, apiRestarts), service("worker", workerState, 0)),
        0, queued, 1000, dropped);
  }

  private static AgentSnapshot.ServiceSnapshot service(String name, ServiceState state, long restarts) {
    return new AgentSnapshot.ServiceSnapshot(name, state, Health.values()[0], Optional.empty(), Optional.empty(),
        (int) restarts, restarts, List.of(), "");
  }

  /** Sample lines as name{labels} → value. */
  private static Map<String, Double> parse(String text) {
    Map<String, Double> samples = new HashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
    return samples;
  }

  @Test
  void restartsServicesUpAndLogPressureFollowTheSnapshot() throws Exception {
    AgentMetrics metrics = new AgentMetrics(dir.resolve("metrics.prom"), "web", null);
    metrics.update(snapshot(0, ServiceState.RUNNING, 0, 0));
    metrics.update(snapshot(2, ServiceState.HEALING, 250, 7));

    metrics.write();

    Map<String, Double> samples = parse(Files.readString(dir.resolve("metrics.prom")));
    assertEquals(2.0, samples.get("infraveil_agent_service_restarts_total{deployment=\"web\",service=\"api\"}"));
    assertEquals(0.0, samples.get("infraveil_agent_service_restarts_total{deployment=\"web\",service=\"worker\"}"));
    assertEquals(1.0, samples.get("infraveil_agent_service_up{deployment=\"web\",service=\"api\"}"));
    assertEquals(0.0, samples.get("infraveil_agent_service_up{deployment=\"web\",service=\"worker\"}"));
    assertEquals(1.0, samples.get("infraveil_agent_services_up{deployment=\"web\"}"));
    assertEquals(2.0, samples.get("infraveil_agent_services{deployment=\"web\"}"));
    assertEquals(0.25, samples.get("infraveil_agent_log_queue_pressure{deployment=\"web\"}"));
    assertEquals(7.0, samples.get("infraveil_agent_log_lines_dropped_total{deployment=\"web\"}"));
  }

  @Test
  void eventsAreCountedByKindFromZero() {
    AgentMetrics metrics = new AgentMetrics(dir.resolve("metrics.prom"), "web", null);
    metrics.recorded(List.of(
        new AgentEvent(NOW, AgentEvent.Kind.ROLLED_BACK, "", "DEPLOY_FAILED", "back to v1", "b".repeat(64)),
        new AgentEvent(NOW, AgentEvent.Kind.PAYLOAD_REJECTED, "", "HASH_MISMATCH", "hash differs", "c".repeat(64)),
        new AgentEvent(NOW, AgentEvent.Kind.PAYLOAD_REJECTED, "", "HASH_MISMATCH", "hash differs", "c".repeat(64))));

    Map<String, Double> samples = parse(metrics.scrape());

    assertEquals(1.0, samples.get("infraveil_agent_events_total{deployment=\"web\",kind=\"ROLLED_BACK\"}"));
    assertEquals(2.0, samples.get("infraveil_agent_events_total{deployment=\"web\",kind=\"PAYLOAD_REJECTED\"}"));
    assertEquals(0.0, samples.get("infraveil_agent_events_total{deployment=\"web\",kind=\"DEPLOY_FAILED\"}"));
  }

  @Test
  void reportingGaugesReadTheHeartbeat() {
    AgentMetrics metrics = new AgentMetrics(dir.resolve("metrics.prom"), "web", new AgentMetrics.Reporting() {
      @Override
      public boolean connected() {
        return true;
      }

      @Override
      public int unackedEvents() {
        return 3;
      }
    });

    Map<String, Double> samples = parse(metrics.scrape());

    assertEquals(1.0, samples.get("infraveil_agent_heartbeat_connected{deployment=\"web\"}"));
    assertEquals(3.0, samples.get("infraveil_agent_events_unacked{deployment=\"web\"}"));
    assertTrue(metrics.scrape().contains("# TYPE infraveil_agent_events_total counter"), metrics::scrape);
  }
}
