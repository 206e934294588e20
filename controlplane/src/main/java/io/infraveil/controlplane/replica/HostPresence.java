package io.infraveil.controlplane.replica;

import com.google.protobuf.InvalidProtocolBufferException;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.sync.SyncSessions;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HostReport;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live state shared by the replicas: every {@code infraveil.replication.presence-interval}
 * this replica writes the hosts whose Sync stream it holds (and those it just lost), their
 * last reports and its agents' latest heartbeats, in one transaction, only what changed; then
 * reads what the other replicas wrote since its last read into {@link HostLiveness} and
 * {@link ReportIngest}. Reports themselves never wait on the database, and every replica
 * answers status calls from the same facts, a couple of seconds old at most for hosts held
 * elsewhere (a host is offline only after 3 missed report intervals).
 */
@Singleton
public final class HostPresence {

  private static final Logger LOG = LoggerFactory.getLogger(HostPresence.class);
  /** Rows are read again this long after they were written: a batch commits after its timestamp. */
  private static final Duration READ_OVERLAP = Duration.ofSeconds(2);

  /** What this replica last wrote for a host it holds. */
  private record Written(Instant connectedAt, Instant lastSeenAt) {}

  private final PresenceStore store;
  private final String replica;
  private final ReplicationSettings settings;
  private final SyncSessions sessions;
  private final HostLiveness liveness;
  private final ReportIngest ingest;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  /** Only the scheduler thread touches these three. */
  private final Map<String, Written> written = new HashMap<>();
  private final Map<String, Instant> agentsWritten = new HashMap<>();
  private Instant readSince = Instant.EPOCH;
  /** Agent reports taken from other replicas (key → received at), never written back as this replica's. */
  private final Map<String, Instant> adoptedAgents = new ConcurrentHashMap<>();
  private volatile boolean failing;

  public HostPresence(Jdbc jdbc, DataSource dataSource, ReplicaName replica, ReplicationSettings settings,
      SyncSessions sessions, HostLiveness liveness, ReportIngest ingest, Clock clock,
      @Named(ReplicationExecutor.NAME) ScheduledExecutorService scheduler) {
    this.store = new PresenceStore(jdbc, Engine.of(dataSource));
    this.replica = replica.name();
    this.settings = Objects.requireNonNull(settings, "settings");
    this.sessions = Objects.requireNonNull(sessions, "sessions");
    this.liveness = Objects.requireNonNull(liveness, "liveness");
    this.ingest = Objects.requireNonNull(ingest, "ingest");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  void start() {
    long every = Math.max(1, settings.presenceInterval().toMillis());
    scheduler.scheduleWithFixedDelay(this::tickQuietly, 0, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Hosts whose Sync stream {@code replica} holds and which reported within 3 report
   * intervals, as stored (a replica that died stops counting once its hosts go quiet or move).
   */
  public int hostsHeldBy(String replica) {
    return store.countHeldBy(replica, clock.instant().minus(liveness.reportInterval().multipliedBy(3)));
  }

  /** A revoked host: its rows go, and this replica forgets what it wrote. */
  void forget(String host) {
    store.forget(host);
    scheduler.execute(() -> {
      written.remove(host);
      agentsWritten.keySet().removeIf(key -> key.startsWith(host + "/"));
    });
  }

  private void tickQuietly() {
    try {
      tick();
      if (failing) {
        LOG.info("presence_restored replica={}", replica);
      }
      failing = false;
    } catch (RuntimeException e) {
      if (!failing) {
        LOG.warn("presence_failed replica={} cause=\"{}\"; live state of other replicas is stale until the"
            + " database answers again", replica, e.getMessage());
      }
      failing = true;
    }
  }

  /** One write of this replica's facts and one read of the others'. */
  void tick() {
    writeMine();
    readOthers();
  }

  private void writeMine() {
    Instant now = clock.instant();
    Set<String> held = sessions.connectedHosts();
    List<PresenceStore.HostRow> hostRows = new ArrayList<>();
    Map<String, Written> next = new HashMap<>();
    for (String host : held) {
      Written before = written.get(host);
      var facts = liveness.reported(host);
      Instant lastSeen = facts.map(HostLiveness.Reported::at).orElse(now);
      Written nowWritten = new Written(before == null ? now : before.connectedAt(), lastSeen);
      next.put(host, nowWritten);
      if (before == null || !before.lastSeenAt().equals(lastSeen)) {
        hostRows.add(new PresenceStore.HostRow(host, replica, true, nowWritten.connectedAt(), lastSeen,
            reportBytes(facts), now));
      }
    }
    for (var entry : written.entrySet()) {
      if (!held.contains(entry.getKey())) {
        var facts = liveness.reported(entry.getKey());
        hostRows.add(new PresenceStore.HostRow(entry.getKey(), replica, false, entry.getValue().connectedAt(),
            facts.map(HostLiveness.Reported::at).orElse(entry.getValue().lastSeenAt()), reportBytes(facts), now));
      }
    }
    List<PresenceStore.AgentRow> agentRows = new ArrayList<>();
    Map<String, Instant> agentsNext = new HashMap<>(agentsWritten);
    for (ReportIngest.AgentReport report : ingest.agents()) {
      String key = report.host() + "/" + report.heartbeat().getDeployment();
      if (report.receivedAt().equals(adoptedAgents.get(key)) || report.receivedAt().equals(agentsWritten.get(key))) {
        continue;
      }
      agentRows.add(new PresenceStore.AgentRow(report.host(), report.heartbeat().getDeployment(), replica,
          report.receivedAt(), report.heartbeat().toByteArray(), now));
      agentsNext.put(key, report.receivedAt());
    }
    store.write(hostRows, agentRows);
    written.clear();
    written.putAll(next);
    agentsWritten.clear();
    agentsWritten.putAll(agentsNext);
  }

  private void readOthers() {
    Instant newest = readSince;
    for (PresenceStore.HostRow row : store.hostsOfOthers(replica, readSince.minus(READ_OVERLAP))) {
      newest = row.writtenAt().isAfter(newest) ? row.writtenAt() : newest;
      if (sessions.isConnected(row.host())) {
        continue; // the stream is here now: this replica's facts are the fresh ones
      }
      HostReport report = parseReport(row);
      if (liveness.adoptFromReplica(row.host(), row.streamOpen(), row.lastSeenAt(), report) && report != null) {
        ingest.hostReportedElsewhere(row.host(), report); // the leader's rules hear hosts held elsewhere
      }
    }
    for (PresenceStore.AgentRow row : store.agentsOfOthers(replica, readSince.minus(READ_OVERLAP))) {
      newest = row.writtenAt().isAfter(newest) ? row.writtenAt() : newest;
      HeartbeatRequest heartbeat = parseHeartbeat(row);
      if (heartbeat == null) {
        continue;
      }
      var known = ingest.agent(row.host(), row.deployment());
      if (known.isPresent() && !row.receivedAt().isAfter(known.get().receivedAt())) {
        continue;
      }
      adoptedAgents.put(row.host() + "/" + row.deployment(), row.receivedAt());
      ingest.adoptFromReplica(new ReportIngest.AgentReport(row.host(), row.receivedAt(), heartbeat));
    }
    readSince = newest;
  }

  private static byte[] reportBytes(java.util.Optional<HostLiveness.Reported> facts) {
    return facts.map(HostLiveness.Reported::report).map(HostReport::toByteArray).orElse(null);
  }

  private static HostReport parseReport(PresenceStore.HostRow row) {
    if (row.lastReport() == null) {
      return null;
    }
    try {
      return HostReport.parseFrom(row.lastReport());
    } catch (InvalidProtocolBufferException e) {
      LOG.warn("presence_unreadable host={} replica={} cause=\"{}\"", row.host(), row.replica(), e.getMessage());
      return null;
    }
  }

  private static HeartbeatRequest parseHeartbeat(PresenceStore.AgentRow row) {
    try {
      return HeartbeatRequest.parseFrom(row.heartbeat());
    } catch (InvalidProtocolBufferException e) {
      LOG.warn("presence_unreadable host={} deployment={} replica={} cause=\"{}\"", row.host(), row.deployment(),
          row.replica(), e.getMessage());
      return null;
    }
  }
}
