package io.infraveil.controlplane.ops;

import io.infraveil.controlplane.auth.OpenStreams;
import io.infraveil.controlplane.grpc.ServerTlsContext;
import io.infraveil.controlplane.history.HistoryWriter;
import io.infraveil.controlplane.ingest.ConsoleLogs;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.sync.SyncSessions;
import io.infraveil.controlplane.trace.RequestTraces;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.ServiceStatus;
import io.infraveil.host.metrics.ProgramMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * Prometheus metrics of the control plane (Micrometer), scraped at {@code GET /metrics}:
 * streams connected, heartbeats, restarts, suspensions, rollbacks, rejected payloads, log and
 * history queue pressure, gRPC calls by method and status, open incidents.
 */
@Singleton
public final class Metrics {

  /** Methods whose calls last as long as a connection: no latency histogram for them. */
  static final Set<String> LONG_LIVED_STREAMS = Set.of("LauncherSyncService/Sync", "AgentReportService/Heartbeat",
      "AgentReportService/ShipLogs", "OperatorService/Watch", "OperatorService/TailLogs");

  /** Bucket bounds of infraveil_grpc_calls_seconds, 5 ms to 30 s. */
  static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
      Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
      Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
      Duration.ofSeconds(30)};

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Counter heartbeats;
  private final Counter restarts;
  private final Counter suspensions;
  private final Counter rollbacks;
  private final Counter rejectedPayloads;
  private final Counter securityEvents;
  private final Map<String, Integer> restartsByAgent = new ConcurrentHashMap<>();
  private final Map<String, Double> logPressureByAgent = new ConcurrentHashMap<>();

  public Metrics(OpenStreams openStreams, SyncSessions syncSessions, ConsoleLogs consoleLogs,
      HistoryWriter history, WatchHub watchHub, ServerTlsContext tls) {
    heartbeats = Counter.builder("infraveil.heartbeats").description("Agent heartbeats received")
        .register(registry);
    restarts = Counter.builder("infraveil.service.restarts").description("Service restarts reported by agents")
        .register(registry);
    suspensions = Counter.builder("infraveil.agent.suspensions").description("Agents suspended by launchers")
        .register(registry);
    rollbacks = Counter.builder("infraveil.rollbacks").description("Rollbacks to a last known good version")
        .register(registry);
    rejectedPayloads = Counter.builder("infraveil.payloads.rejected")
        .description("Payloads rejected by launchers or agents").register(registry);
    securityEvents = Counter.builder("infraveil.security.events").description("Security events recorded")
        .register(registry);
    gauge("infraveil.streams.open", "Open gRPC calls of identified callers", openStreams::count);
    gauge("infraveil.sync.streams", "Launchers with an open Sync stream", syncSessions::connectedCount);
    gauge("infraveil.watch.streams", "Open Watch streams", watchHub::subscribers);
    Gauge.builder("infraveil.log.queue.pressure", logPressureByAgent,
            m -> m.values().stream().mapToDouble(Double::doubleValue).max().orElse(0))
        .description("Highest log queue pressure reported by an agent (0 to 1)").strongReference(true).register(registry);
    FunctionCounter.builder("infraveil.log.lines.dropped", consoleLogs, c -> c.droppedByAgents())
        .description("Console lines agents dropped because their queue was full").register(registry);
    Gauge.builder("infraveil.history.queue.pressure", history, HistoryWriter::pressure)
        .description("How full the history write queue is (0 to 1)").strongReference(true).register(registry);
    FunctionCounter.builder("infraveil.history.rows.dropped", history, h -> h.dropped())
        .description("History rows dropped because the store could not keep up").register(registry);
    // What a reconnect storm costs the TLS layer: resumptions are cheap, queued handshakes waited.
    FunctionCounter.builder("infraveil.tls.handshakes.resumed", tls, ServerTlsContext::resumedHandshakes)
        .description("TLS handshakes that resumed a session from a ticket (BoringSSL only)").register(registry);
    FunctionCounter.builder("infraveil.tls.handshakes.queued", tls, t -> t.handshakeLimiter().stats().queued())
        .description("Connections whose handshake waited for infraveil.grpc.max-concurrent-handshakes")
        .register(registry);
    Gauge.builder("infraveil.tls.handshakes.waiting.peak", tls, t -> t.handshakeLimiter().stats().peakWaiting())
        .description("Most connections waiting for a handshake slot at once since start").strongReference(true)
        .register(registry);
    ProgramMetrics.bind(registry, "controlplane", null);
  }

  /** Gauges hold their source strongly: Micrometer's default weak reference would let a lambda go. */
  private void gauge(String name, String description, IntSupplier value) {
    Gauge.builder(name, value, IntSupplier::getAsInt).description(description).strongReference(true).register(registry);
  }

  public void gaugeOpenIncidents(IntSupplier open) {
    gauge("infraveil.incidents.open", "Open incidents", open);
  }

  void heartbeat(ReportIngest.AgentReport report) {
    heartbeats.increment();
    String key = report.host() + "/" + report.heartbeat().getDeployment();
    int total = report.heartbeat().getServicesList().stream().mapToInt(ServiceStatus::getRestartsTotal).sum();
    Integer before = restartsByAgent.put(key, total);
    if (before != null && total > before) {
      restarts.increment(total - before);
    }
    logPressureByAgent.put(key, report.heartbeat().getPressure().getLogQueuePressure());
  }

  void event(ReportIngest.ReceivedEvent event) {
    EventKind kind = event.event().getKind();
    switch (kind) {
      case EVENT_KIND_AGENT_SUSPENDED -> suspensions.increment();
      case EVENT_KIND_ROLLED_BACK -> rollbacks.increment();
      case EVENT_KIND_PAYLOAD_REJECTED -> rejectedPayloads.increment();
      default -> {
        // Not counted.
      }
    }
  }

  void securityEvent() {
    securityEvents.increment();
  }

  /**
   * Latency of calls that answer (a histogram with {@link #LATENCY_BUCKETS}); streams that stay
   * open for the life of a connection are only counted when they end, since their duration
   * says nothing about how fast the control plane answers.
   */
  void trace(RequestTraces.Trace trace) {
    String method = trace.shortMethod();
    if (LONG_LIVED_STREAMS.contains(method)) {
      Counter.builder("infraveil.grpc.streams.ended").description("Long-lived gRPC streams (Sync, Heartbeat, "
              + "ShipLogs, Watch, TailLogs) that ended, by method and status")
          .tag("method", method).tag("status", trace.status())
          .register(registry).increment();
      return;
    }
    Timer.builder("infraveil.grpc.calls").description("gRPC calls by method and status (long-lived streams excluded)")
        .tag("method", method).tag("status", trace.status())
        .serviceLevelObjectives(LATENCY_BUCKETS)
        .register(registry).record(trace.latency());
  }

  /** The Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }
}
