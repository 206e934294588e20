package io.infraveil.controlplane.hosts;

import io.infraveil.proto.v1.AgentStatus;
import io.infraveil.proto.v1.HostConnection;
import io.infraveil.proto.v1.HostReport;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Live connection state of hosts, in memory: when each last reported, whether its Sync stream
 * is open, and what it last said; for hosts held by other replicas, what those stored
 * (replica/HostPresence). A host is OFFLINE after 3 missed report intervals; the state
 * is derived from those timestamps, never stored as a flag.
 */
@Singleton
public final class HostLiveness {

  /**
   * Latest facts about one host.
   *
   * @param elsewhere the facts were written by another replica (the host's stream is there)
   */
  private record Live(boolean streamOpen, Instant lastReportAt, HostReport lastReport, boolean elsewhere) {
    Live(boolean streamOpen, Instant lastReportAt, HostReport lastReport) {
      this(streamOpen, lastReportAt, lastReport, false);
    }
  }

  private final Map<String, Live> live = new ConcurrentHashMap<>();
  private final List<java.util.function.Consumer<String>> touchListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Clock clock;
  private volatile Duration reportInterval = Duration.ofSeconds(10);

  public HostLiveness(Clock clock) {
    this.clock = clock;
  }

  public void setReportInterval(Duration interval) {
    this.reportInterval = interval;
  }

  /**
   * Hears a host's last report instant move (a stream opened, a report here or one adopted from
   * another replica), after the new instant is readable: what a deadline for the host going
   * offline is computed from. Called on the thread that made the change; must be quick.
   */
  public void addTouchListener(java.util.function.Consumer<String> listener) {
    touchListeners.add(listener);
  }

  private void touched(String host) {
    for (var listener : touchListeners) {
      listener.accept(host);
    }
  }

  public void streamOpened(String host) {
    live.compute(host, (name, old) -> new Live(true, now(), old == null ? null : old.lastReport()));
    touched(host);
  }

  public void streamClosed(String host) {
    live.computeIfPresent(host, (name, old) -> new Live(false, old.lastReportAt(), old.lastReport()));
  }

  public void reported(String host, HostReport report) {
    live.compute(host, (name, old) -> new Live(old == null || old.streamOpen(), now(), report));
    touched(host);
  }

  /**
   * Facts another replica stored about a host it holds (or held): taken when they are newer
   * than what this replica knows, unless the host's stream is open here.
   *
   * @return whether they were taken
   */
  public boolean adoptFromReplica(String host, boolean streamOpen, Instant lastReportAt, HostReport lastReport) {
    Live adopted = new Live(streamOpen, lastReportAt, lastReport, true);
    boolean taken = live.compute(host, (name, old) -> {
      if (old != null && !old.elsewhere() && old.streamOpen()) {
        return old;
      }
      if (old != null && old.lastReportAt() != null && !lastReportAt.isAfter(old.lastReportAt())) {
        return old;
      }
      return adopted;
    }) == adopted;
    if (taken) {
      touched(host);
    }
    return taken;
  }

  /** To the microsecond, as the database keeps it: every replica shows the same instant. */
  private Instant now() {
    return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
  }

  public HostConnection connection(String host) {
    Live facts = live.get(host);
    if (facts == null) {
      return HostConnection.HOST_CONNECTION_ENROLLED;
    }
    boolean fresh = facts.lastReportAt() != null
        && clock.instant().isBefore(facts.lastReportAt().plus(reportInterval.multipliedBy(3)));
    if (!fresh) {
      return HostConnection.HOST_CONNECTION_OFFLINE;
    }
    if (facts.lastReport() != null && facts.lastReport().hasDetachedSince()) {
      return HostConnection.HOST_CONNECTION_DETACHED;
    }
    return HostConnection.HOST_CONNECTION_ONLINE;
  }

  public Optional<Instant> lastReportAt(String host) {
    return Optional.ofNullable(live.get(host)).map(Live::lastReportAt);
  }

  public List<AgentStatus> agents(String host) {
    Live facts = live.get(host);
    return facts == null || facts.lastReport() == null ? List.of() : facts.lastReport().getAgentsList();
  }

  /** Hosts that opened a stream or reported since the control plane started. */
  public java.util.Set<String> hosts() {
    return java.util.Set.copyOf(live.keySet());
  }

  /** Forgets a host (revoked): it is neither online nor offline any more. */
  public void forget(String host) {
    live.remove(host);
  }

  public Duration reportInterval() {
    return reportInterval;
  }

  /** When the host last reported and what it said (null before its first report), read together. */
  public record Reported(Instant at, HostReport report) {}

  public Optional<Reported> reported(String host) {
    return Optional.ofNullable(live.get(host)).filter(facts -> facts.lastReportAt() != null)
        .map(facts -> new Reported(facts.lastReportAt(), facts.lastReport()));
  }

  public Optional<HostReport> lastReport(String host) {
    return Optional.ofNullable(live.get(host)).map(Live::lastReport);
  }
}
