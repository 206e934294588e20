package io.infraveil.controlplane.ingest;

import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.HostReport;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What hosts report, as live state in memory: the latest heartbeat of every agent. Host events
 * are passed on, not kept here: listeners (incidents, watchers, metrics, history) hear every
 * report at once, and history stores them. An event re-sent by a host (events are re-sent until
 * acknowledged) is passed on once: {@link HostEventMarks} drops the copies, so one event makes
 * one history row, one piece of evidence, one pipeline step and one security event.
 */
@Singleton
public final class ReportIngest {

  /** Which program on the host reported an event. */
  public enum Origin { LAUNCHER, AGENT }

  /** One host event with the host it came from, who sent it, and when it was received. */
  public record ReceivedEvent(String host, Instant receivedAt, HostEvent event, Origin origin) {}

  /** The latest heartbeat of one agent. */
  public record AgentReport(String host, Instant receivedAt, HeartbeatRequest heartbeat) {}

  /** Hears reports as they arrive. */
  public interface Listener {
    default void hostReported(String host, HostReport report) {}

    default void agentReported(AgentReport report) {}

    default void event(ReceivedEvent event) {}

    /**
     * An agent's heartbeat that reached another replica, as that replica stored it (a second
     * or two late); work that runs on one replica for all (incident rules on the leader) hears
     * it here. The replica that received it already passed it to its own listeners.
     */
    default void agentReportedElsewhere(AgentReport report) {}

    /**
     * A launcher's report that reached another replica, as that replica stored it (its latest
     * only, a second or two late); the replica that received it already passed it on.
     */
    default void hostReportedElsewhere(String host, HostReport report) {}

    /**
     * A host event another replica received and passed to its own listeners first (only the
     * kinds incident rules and rollouts act on: {@link #SHARED_EVENTS}); heard here once, for
     * the work one replica does for all, never to be recorded again (history, metrics).
     */
    default void eventElsewhere(ReceivedEvent event) {}
  }

  /** The event kinds other replicas hear ({@link Listener#eventElsewhere}): incident rules and rollouts act on them. */
  public static final java.util.Set<EventKind> SHARED_EVENTS = java.util.EnumSet.of(EventKind.EVENT_KIND_ROLLED_BACK,
      EventKind.EVENT_KIND_PAYLOAD_REJECTED, EventKind.EVENT_KIND_PAYLOAD_VERIFIED, EventKind.EVENT_KIND_VERSION_STARTED,
      EventKind.EVENT_KIND_AGENT_SUSPENDED, EventKind.EVENT_KIND_AGENT_RESUMED);

  private final Clock clock;
  private final HostEventMarks marks;
  private final Map<String, AgentReport> agents = new ConcurrentHashMap<>();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();

  public ReportIngest(Clock clock, HostEventMarks marks) {
    this.clock = clock;
    this.marks = marks;
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  public void hostReported(String host, HostReport report) {
    report.getEventsList().forEach(event -> recordEvent(host, event, Origin.LAUNCHER));
    listeners.forEach(listener -> listener.hostReported(host, report));
  }

  public void agentReported(String host, HeartbeatRequest heartbeat) {
    // To the microsecond, as the database keeps it: every replica shows the same instant.
    AgentReport report = new AgentReport(host, clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS),
        heartbeat);
    agents.put(key(host, heartbeat.getDeployment()), report);
    heartbeat.getEventsList().forEach(event -> recordEvent(host, event, Origin.AGENT));
    listeners.forEach(listener -> listener.agentReported(report));
  }

  /**
   * The latest heartbeat of an agent reporting to another replica, as that replica stored it:
   * kept when newer than what is known here, and told to {@link Listener#agentReportedElsewhere}.
   */
  public void adoptFromReplica(AgentReport report) {
    AgentReport kept = agents.merge(key(report.host(), report.heartbeat().getDeployment()), report,
        (known, stored) -> stored.receivedAt().isAfter(known.receivedAt()) ? stored : known);
    if (kept == report) {
      listeners.forEach(listener -> listener.agentReportedElsewhere(report));
    }
  }

  /** A launcher's report another replica stored, newer than what this replica knew (see {@code HostLiveness}). */
  public void hostReportedElsewhere(String host, HostReport report) {
    listeners.forEach(listener -> listener.hostReportedElsewhere(host, report));
  }

  /**
   * A host event another replica received (it already passed the event through the marks
   * that drop re-sent copies, which every replica shares): told to
   * {@link Listener#eventElsewhere} only.
   */
  public void eventElsewhere(ReceivedEvent event) {
    listeners.forEach(listener -> listener.eventElsewhere(event));
  }

  public Optional<AgentReport> agent(String host, String deployment) {
    return Optional.ofNullable(agents.get(key(host, deployment)));
  }

  public List<AgentReport> agents() {
    return List.copyOf(agents.values());
  }

  private void recordEvent(String host, HostEvent event, Origin origin) {
    if (!marks.firstSeen(host, event)) {
      return;
    }
    ReceivedEvent received = new ReceivedEvent(host, clock.instant(), event, origin);
    listeners.forEach(listener -> listener.event(received));
  }

  private static String key(String host, String deployment) {
    return host + "/" + deployment;
  }
}
