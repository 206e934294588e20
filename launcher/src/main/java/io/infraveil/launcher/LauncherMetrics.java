package io.infraveil.launcher;

import io.infraveil.host.metrics.MetricsTextFiles;
import io.infraveil.proto.v1.AgentState;
import io.infraveil.proto.v1.AgentStatus;
import io.infraveil.host.metrics.ProgramMetrics;
import io.micrometer.core.instrument.Counter;
import io.infraveil.host.grpc.ControlPlaneChannel;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The launcher's metrics, followed by every agent's {@code metrics.prom} (merged, see
 * {@link MetricsTextFiles}). Counters listen to the launcher's structured actions, which
 * record every crash, suspension, connection and prefetch outcome already (see
 * {@link #observe}); gauges read the reconciler.
 *
 * <pre>
 * infraveil_launcher_agents{state}                   gauge    agents by state (running, suspended, ...)
 * infraveil_launcher_agent_crashes_total             counter  agent exits the launcher did not ask for
 * infraveil_launcher_agent_suspensions_total         counter  crash budget exhausted
 * infraveil_launcher_agent_spawns_total              counter
 * infraveil_launcher_agent_stops_forced_total        counter  stops where the agent, its services or its cgroups had to be killed
 * infraveil_launcher_sync_connected                  gauge    1 while the Sync stream is up
 * infraveil_launcher_sync_reconnects_total           counter  Sync streams lost
 * infraveil_launcher_identity_refused                gauge    1 while the control plane refuses this host's
 *                                                             identity (revoked, unknown); agents keep running
 * infraveil_launcher_identity_refusals_total         counter  refusal levels reached (logged once per level)
 * infraveil_launcher_detached_seconds                gauge    since the Sync stream was lost, 0 when connected
 * infraveil_launcher_desired_revision                gauge    revision of the desired state held
 * infraveil_launcher_control_plane_answering{endpoint} gauge  1 for the control-plane replica that answered
 *                                                             last, 0 for the other listed ones
 * infraveil_launcher_payload_prefetch_total{outcome} counter  payloads not cached at spawn, by reason
 * </pre>
 */
final class LauncherMetrics {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Path dataDir;
  private final Clock clock;
  private final Counter crashes;
  private final Counter suspensions;
  private final Counter spawns;
  private final Counter stopsForced;
  private final Counter reconnects;
  private final Counter refusals;
  private volatile boolean connected;
  private volatile boolean refused;
  private volatile Instant detachedSince;

  LauncherMetrics(Path dataDir, Clock clock) {
    this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
    this.clock = Objects.requireNonNull(clock, "clock");
    ProgramMetrics.bind(registry, "launcher", null);
    crashes = Counter.builder("infraveil_launcher_agent_crashes").description("Agent exits the launcher did not ask for").register(registry);
    suspensions = Counter.builder("infraveil_launcher_agent_suspensions").description("Agents suspended after exhausting their crash budget").register(registry);
    spawns = Counter.builder("infraveil_launcher_agent_spawns").description("Agents started").register(registry);
    stopsForced = Counter.builder("infraveil_launcher_agent_stops_forced").description("Stops where the agent did not exit within its grace or left service processes or cgroups, which the launcher killed").register(registry);
    reconnects = Counter.builder("infraveil_launcher_sync_reconnects").description("Sync streams lost (each is followed by a reconnect)").register(registry);
    Gauge.builder("infraveil_launcher_sync_connected", this, m -> m.connected ? 1 : 0)
        .description("1 while the Sync stream to the control plane is up").strongReference(true).register(registry);
    refusals = Counter.builder("infraveil_launcher_identity_refusals").description("Backoff levels reached while the control plane refused this host's identity").register(registry);
    Gauge.builder("infraveil_launcher_identity_refused", this, m -> m.refused ? 1 : 0)
        .description("1 while the control plane refuses this host's identity (revoked or unknown); agents keep running on the last desired state")
        .strongReference(true).register(registry);
    Gauge.builder("infraveil_launcher_detached_seconds", this, LauncherMetrics::detachedSeconds)
        .description("Seconds since the Sync stream was lost; 0 while connected").strongReference(true).register(registry);
  }

  /** Gauges over the reconciler: agents by state and the desired revision held. */
  void watch(Supplier<List<AgentStatus>> agents, LongSupplier desiredRevision) {
    Objects.requireNonNull(agents, "agents");
    Objects.requireNonNull(desiredRevision, "desiredRevision");
    for (AgentState state : AgentState.values()) {
      if (state == AgentState.UNRECOGNIZED || state.getNumber() == 0) {
        continue;
      }
      Gauge.builder("infraveil_launcher_agents", agents, list -> list.get().stream().filter(a -> a.getState() == state).count())
          .description("Agents by state").tag("state", state.name().replace("AGENT_STATE_", "").toLowerCase(java.util.Locale.ROOT))
          .strongReference(true).register(registry);
    }
    Gauge.builder("infraveil_launcher_desired_revision", desiredRevision, LongSupplier::getAsLong)
        .description("Revision of the desired state the launcher holds").strongReference(true).register(registry);
  }

  /** One gauge per listed control-plane endpoint: 1 for the replica answering now. */
  void watchControlPlane(ControlPlaneChannel channel) {
    Objects.requireNonNull(channel, "channel");
    for (ControlPlaneChannels.Target endpoint : channel.endpoints().targets()) {
      Gauge.builder("infraveil_launcher_control_plane_answering", channel,
              c -> c.answering().filter(endpoint::equals).isPresent() ? 1 : 0)
          .description("1 for the control-plane replica that answered this launcher last")
          .tag("endpoint", endpoint.toString()).strongReference(true).register(registry);
    }
  }

  /** Counts one logged action (see {@link LauncherLog.ActionListener}). */
  void observe(String action, Map<String, String> fields) {
    switch (action) {
      case "crash" -> {
        crashes.increment();
        if ("SUSPEND".equals(fields.get("decision"))) {
          suspensions.increment();
        }
      }
      case "spawn" -> spawns.increment();
      case "stop_forced" -> stopsForced.increment();
      case "sync_connected" -> {
        connected = true;
        refused = false;
        detachedSince = null;
      }
      case "sync_refused" -> {
        if (connected || detachedSince == null) {
          detachedSince = clock.instant();
        }
        connected = false;
        refused = true;
        refusals.increment();
      }
      case "sync_lost" -> {
        if (connected || detachedSince == null) {
          detachedSince = clock.instant();
        }
        connected = false;
        reconnects.increment();
      }
      case "payload_not_cached" -> {
        String outcome = fields.getOrDefault("reason", "UNKNOWN");
        Counter.builder("infraveil_launcher_payload_prefetch").description("Payloads not cached when an agent was due, by reason")
            .tag("outcome", outcome.isEmpty() ? "UNKNOWN" : outcome).register(registry).increment();
      }
      default -> { }
    }
  }

  /** The launcher's metrics, then every agent's. */
  String scrape() throws IOException {
    List<String> texts = new ArrayList<>();
    texts.add(registry.scrape());
    texts.addAll(MetricsTextFiles.readAgents(dataDir));
    return MetricsTextFiles.merge(texts);
  }

  private double detachedSeconds() {
    Instant since = detachedSince;
    return connected || since == null ? 0 : Duration.between(since, clock.instant()).toMillis() / 1000.0;
  }

  private static String field(String line, String key) {
    String marker = " " + key + "=";
    int at = (" " + line).indexOf(marker);
    if (at < 0) {
      return null;
    }
    int start = at + marker.length() - 1;
    if (start < line.length() && line.charAt(start) == '"') {
      int end = line.indexOf('"', start + 1);
      return line.substring(start + 1, end < 0 ? line.length() : end);
    }
    int end = line.indexOf(' ', start);
    return line.substring(start, end < 0 ? line.length() : end);
  }
}
