package io.infraveil.agent.metrics;

import io.infraveil.agent.AgentEvent;
import io.infraveil.agent.AgentSnapshot;
import io.infraveil.agent.ServiceState;
import io.infraveil.host.metrics.MetricsTextFiles;
import io.infraveil.host.metrics.ProgramMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * One agent's metrics, every one labelled {@code deployment}, in the Prometheus text format
 * for the launcher's {@code /metrics} (see {@link MetricsTextFiles}). Values come from what the
 * agent already records: the supervisor's latest {@link AgentSnapshot} (restarts per service,
 * services up, log queue pressure and dropped lines) and the events on their way to the
 * control plane (rollbacks, rejected payloads, deploy failures, healing). Gauges hold this
 * object strongly, so they never read NaN after a collection.
 *
 * <pre>
 * infraveil_agent_events_total{deployment,kind}        counter  every AgentEvent.Kind, 0 until seen:
 *     ROLLED_BACK (rollbacks), PAYLOAD_REJECTED, DEPLOY_FAILED, SERVICE_UNHEALTHY (healing attempts), ...
 * infraveil_agent_service_restarts_total{deployment,service}  counter  restarts since the agent started
 * infraveil_agent_service_up{deployment,service}      gauge    1 when RUNNING, else 0
 * infraveil_agent_services_up{deployment}             gauge    services RUNNING
 * infraveil_agent_services{deployment}                gauge    services of the running version
 * infraveil_agent_log_queue_pressure{deployment}      gauge    queued lines / capacity (0..1)
 * infraveil_agent_log_lines_dropped_total{deployment} counter  oldest lines dropped when full
 * infraveil_agent_events_dropped_total{deployment}    counter  events dropped when the buffer was full
 * infraveil_agent_heartbeat_connected{deployment}     gauge    1 while the heartbeat stream is open
 * infraveil_agent_events_unacked{deployment}          gauge    events the control plane has not acked
 * </pre>
 */
public final class AgentMetrics {

  /** What the heartbeat client knows that the snapshot does not. */
  public interface Reporting {
    boolean connected();

    int unackedEvents();
  }

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Path file;
  private final Map<AgentEvent.Kind, Counter> events = new EnumMap<>(AgentEvent.Kind.class);
  private final Set<String> services = ConcurrentHashMap.newKeySet();
  private volatile AgentSnapshot latest;

  /** Metrics of {@code deployment}, written to {@code file}; {@code reporting} may be null. */
  public AgentMetrics(Path file, String deployment, Reporting reporting) {
    this.file = Objects.requireNonNull(file, "file");
    registry.config().commonTags("deployment", Objects.requireNonNull(deployment, "deployment"));
    ProgramMetrics.bind(registry, "agent", deployment);
    for (AgentEvent.Kind kind : AgentEvent.Kind.values()) {
      events.put(kind, Counter.builder("infraveil_agent_events")
          .description("Events the agent recorded, by kind (ROLLED_BACK, PAYLOAD_REJECTED, "
              + "DEPLOY_FAILED, SERVICE_UNHEALTHY starts a healing attempt)")
          .tag("kind", kind.name()).register(registry));
    }
    gauge("infraveil_agent_services_up", "Services of the running version that are RUNNING",
        () -> count(true));
    gauge("infraveil_agent_services", "Services of the running version", () -> count(false));
    Gauge.builder("infraveil_agent_log_queue_pressure", this, AgentMetrics::logQueuePressure)
        .description("Console lines waiting to be shipped / queue capacity")
        .strongReference(true).register(registry);
    FunctionCounter.builder("infraveil_agent_log_lines_dropped", this,
            metrics -> metrics.latest == null ? 0 : metrics.latest.logLinesDropped())
        .description("Console lines dropped because the queue was full (oldest first)")
        .register(registry);
    FunctionCounter.builder("infraveil_agent_events_dropped", this,
            metrics -> metrics.latest == null ? 0 : metrics.latest.eventsDropped())
        .description("Events dropped because the buffer was full").register(registry);
    if (reporting != null) {
      Gauge.builder("infraveil_agent_heartbeat_connected", reporting, r -> r.connected() ? 1 : 0)
          .description("1 while the heartbeat stream to the control plane is open")
          .strongReference(true).register(registry);
      Gauge.builder("infraveil_agent_events_unacked", reporting, Reporting::unackedEvents)
          .description("Events not yet acknowledged by the control plane")
          .strongReference(true).register(registry);
    }
  }

  /** Takes the supervisor's latest state; services seen for the first time get their meters. */
  public void update(AgentSnapshot snapshot) {
    latest = Objects.requireNonNull(snapshot, "snapshot");
    for (AgentSnapshot.ServiceSnapshot service : snapshot.services()) {
      String name = service.name();
      if (services.add(name)) {
        FunctionCounter.builder("infraveil_agent_service_restarts", this,
                metrics -> metrics.service(name).map(s -> (double) s.restartsTotal()).orElse(0.0))
            .description("Restarts of the service since the agent started")
            .tags(Tags.of("service", name)).register(registry);
        Gauge.builder("infraveil_agent_service_up", this,
                metrics -> metrics.service(name).filter(s -> s.state() == ServiceState.RUNNING)
                    .isPresent() ? 1 : 0)
            .description("1 when the service is RUNNING")
            .tags(Tags.of("service", name)).strongReference(true).register(registry);
      }
    }
  }

  /** Counts events as they leave for the control plane. */
  public void recorded(Iterable<AgentEvent> drained) {
    for (AgentEvent event : drained) {
      events.get(event.kind()).increment();
    }
  }

  /** The metrics in the Prometheus text format. */
  public String scrape() {
    return registry.scrape();
  }

  /** Writes {@link #scrape()} to the file, atomically, when it changed. */
  public void write() throws IOException {
    MetricsTextFiles.write(file, scrape());
  }

  public Path file() {
    return file;
  }

  private java.util.Optional<AgentSnapshot.ServiceSnapshot> service(String name) {
    AgentSnapshot snapshot = latest;
    return snapshot == null ? java.util.Optional.empty() : snapshot.service(name);
  }

  private int count(boolean upOnly) {
    AgentSnapshot snapshot = latest;
    if (snapshot == null) {
      return 0;
    }
    return (int) snapshot.services().stream()
        .filter(s -> !upOnly || s.state() == ServiceState.RUNNING).count();
  }

  private double logQueuePressure() {
    AgentSnapshot snapshot = latest;
    return snapshot == null || snapshot.logQueueCapacity() == 0 ? 0
        : (double) snapshot.logQueueSize() / snapshot.logQueueCapacity();
  }

  private void gauge(String name, String description, IntSupplier value) {
    Gauge.builder(name, value, IntSupplier::getAsInt).description(description)
        .strongReference(true).register(registry);
  }
}
