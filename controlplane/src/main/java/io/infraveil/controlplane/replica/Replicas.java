package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.sync.SyncSessions;
import io.micronaut.context.annotation.Value;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This control plane as one replica of an installation: its name and address, its row in
 * {@code control_plane_replicas} (refreshed every {@code replica-heartbeat-interval}), and its
 * part in the {@link Leadership}. Started by {@code ControlPlane.start} once the gRPC port is
 * bound, since the default name carries it.
 */
@Singleton
public final class Replicas {

  private static final Logger LOG = LoggerFactory.getLogger(Replicas.class);

  static final String LEADER = "leader";
  static final String FOLLOWER = "follower";

  private final ReplicaSettings settings;
  private final ReplicaName replicaName;
  private final Leadership leadership;
  private final ReplicaRegistry registry;
  private final SyncSessions syncSessions;
  private final String instanceId = UUID.randomUUID().toString();
  private final Object lock = new Object();
  /** Guarded by {@link #lock}. */
  private ScheduledExecutorService scheduler;
  private volatile String name = "";
  private volatile String address = "";
  private volatile List<ReplicaRegistry.Row> lastSeen = List.of();

  private final boolean soleProcess;

  public Replicas(ReplicaSettings settings, ReplicaName replicaName, Leadership leadership,
      ReplicaRegistry registry, SyncSessions syncSessions,
      @Value("${datasources.default.url:}") String databaseUrl) {
    this.soleProcess = soleProcess(databaseUrl);
    this.settings = Objects.requireNonNull(settings, "settings");
    this.replicaName = Objects.requireNonNull(replicaName, "replicaName");
    this.leadership = Objects.requireNonNull(leadership, "leadership");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.syncSessions = Objects.requireNonNull(syncSessions, "syncSessions");
  }

  /** Registers this replica and starts taking part in the leadership. */
  public void start(int grpcPort) {
    String defaultAddress = ReplicaName.hostname() + ":" + grpcPort;
    String chosen = replicaName.name();
    ScheduledExecutorService started = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "infraveil-replica");
      thread.setDaemon(true);
      return thread;
    });
    synchronized (lock) {
      if (scheduler != null) {
        throw new IllegalStateException("replica " + name + " already started");
      }
      scheduler = started;
      name = chosen;
      address = settings.replicaAddress().isEmpty() ? defaultAddress : settings.replicaAddress();
    }
    for (ReplicaRegistry.Row row : registry.all()) {
      if (row.name().equals(chosen) && !row.gone()) {
        LOG.warn("replica_name_in_use replica={} seen_at={}: another process may run under this name (or this one"
            + " restarted within {}); give every replica its own infraveil.replica-name", chosen, row.seenAt(),
            settings.replicaGoneAfter());
      }
    }
    leadership.addListener(new Leadership.Listener() {
      @Override
      public void gained(long term) {
        heartbeatSoon();
      }

      @Override
      public void lost(long term, String why) {
        heartbeatSoon();
      }
    });
    leadership.start(chosen, soleProcess);
    heartbeat(true);
    long every = settings.replicaHeartbeatInterval().toMillis();
    started.scheduleWithFixedDelay(() -> heartbeat(false), every, every, TimeUnit.MILLISECONDS);
    LOG.info("replica_started replica={} address={} role={}", chosen, address, role());
  }

  /** This replica's name; empty before {@link #start}. */
  public String name() {
    return name;
  }

  public String address() {
    return address;
  }

  /** {@code leader} or {@code follower}, now. */
  public String role() {
    return leadership.isLeader() ? LEADER : FOLLOWER;
  }

  /** The replicas as last read (every heartbeat), this one included. */
  public List<ReplicaRegistry.Row> lastSeen() {
    return lastSeen;
  }

  /** Every replica, read now. */
  public List<ReplicaRegistry.Row> readAll() {
    List<ReplicaRegistry.Row> rows = registry.all();
    lastSeen = rows;
    return rows;
  }

  /** Whether another replica was alive at the last heartbeat. */
  public boolean several() {
    String self = name;
    return lastSeen.stream().anyMatch(row -> !row.gone() && !row.name().equals(self));
  }

  private void heartbeatSoon() {
    synchronized (lock) {
      if (scheduler != null) {
        scheduler.execute(() -> heartbeat(false));
      }
    }
  }

  private void heartbeat(boolean starting) {
    try {
      registry.heartbeat(name, address, role(), syncSessions.connectedCount(), instanceId, starting);
      if (leadership.isLeader()) {
        registry.forgetLongGone();
      }
      readAll();
    } catch (RuntimeException e) {
      LOG.warn("replica_heartbeat_failed replica={} error={}", name, e.getMessage());
    }
  }

  /** Gives the lease up (another replica leads at once) and marks this replica stopped. */
  @PreDestroy
  public void stop() {
    ScheduledExecutorService running;
    synchronized (lock) {
      running = scheduler;
      scheduler = null;
    }
    if (running == null) {
      return;
    }
    running.shutdownNow();
    leadership.stop(true);
    try {
      registry.stopped(name, instanceId);
    } catch (RuntimeException e) {
      LOG.warn("replica_stop_unrecorded replica={} error={}; it shows as gone after {}", name, e.getMessage(),
          settings.replicaGoneAfter());
    }
  }

  /** Stops renewing without a word to the database, as a killed process would (tests). */
  void abandon() {
    ScheduledExecutorService running;
    synchronized (lock) {
      running = scheduler;
      scheduler = null;
    }
    if (running != null) {
      running.shutdownNow();
    }
    leadership.stop(false);
  }

  /**
   * Whether the database admits this process only: an embedded H2 file without AUTO_SERVER
   * (H2 locks the file) or an in-memory H2.
   */
  static boolean soleProcess(String url) {
    String upper = url.toUpperCase(java.util.Locale.ROOT);
    return (upper.startsWith("JDBC:H2:FILE:") || upper.startsWith("JDBC:H2:MEM:")) && !upper.contains("AUTO_SERVER=TRUE");
  }

}
