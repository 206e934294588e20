package io.infraveil.agent.report;

import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.infraveil.agent.AgentEvent;
import io.infraveil.agent.AgentSnapshot;
import io.grpc.Status;
import io.infraveil.host.grpc.ReconnectLoop;
import io.infraveil.host.process.ProcessUsage;
import io.infraveil.proto.v1.AgentReportServiceGrpc;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HeartbeatResponse;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.Nudge;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.ServiceStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * The agent's end of the Heartbeat stream. Sends a full report on connect, every interval, on
 * every change (bursts coalesced to one report per {@code minGap}) and when nudged. Events stay
 * in a bounded buffer (oldest dropped and counted) and are re-sent in every report until the
 * control plane acks a report that carried them; each carries this process's instance id and
 * its own sequence, so the control plane keeps one of each however often it arrives. When the stream breaks it reconnects through
 * the {@link ReconnectLoop} (the backoff restarts at the first ack, and a refused identity waits
 * up to 5 minutes, logged once per level); reports made while detached keep the latest state and events,
 * and reports after a reconnect carry {@code detached_since} until one of them is acked.
 *
 * <p>State is guarded by one lock, so any scheduler works; nothing here blocks a caller.
 */
public final class HeartbeatClient implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(HeartbeatClient.class.getName());

  /** Who the agent is and how often it reports. */
  public record Settings(String hostName, String deployment, long generation, Duration interval,
      Duration minGap, int eventCapacity, int healingMaxAttempts) {

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
    public static final Duration DEFAULT_MIN_GAP = Duration.ofMillis(200);

    public Settings {
      Objects.requireNonNull(hostName, "hostName");
      Objects.requireNonNull(deployment, "deployment");
      positive(interval, "interval");
      Objects.requireNonNull(minGap, "minGap");
      if (minGap.isNegative()) {
        throw new IllegalArgumentException("minGap must be >= 0, got " + minGap);
      }
      if (eventCapacity < 1) {
        throw new IllegalArgumentException("eventCapacity must be >= 1, got " + eventCapacity);
      }
      if (healingMaxAttempts < 1) {
        throw new IllegalArgumentException("healingMaxAttempts must be >= 1, got "
            + healingMaxAttempts);
      }
    }

    private static void positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, got " + d);
      }
    }
  }

  /** What the heartbeat reports; the agent implements it over its supervisor. */
  public interface Source {
    AgentSnapshot snapshot();

    /** Removes and returns events recorded since the last call, oldest first. */
    List<AgentEvent> drainEvents();

    boolean isMarkedBad(String sha256);

    /** Full references of the payloads the agent knows (at least the desired one). */
    Map<String, PayloadRef> payloads();

    /** When each step of starting {@code running} was reached, if this agent started it. */
    default java.util.Optional<io.infraveil.proto.v1.DeployTimings> deployTimings(String running) {
      return java.util.Optional.empty();
    }
  }

  private record Pending(long id, HostEvent event) {}

  /** Names this agent process in every event id: re-sent events stay recognizable. */
  private final String instanceId = UUID.randomUUID().toString();

  private final Settings settings;
  private final Channel channel;
  private final AgentReportServiceGrpc.AgentReportServiceStub stub;
  private final Source source;
  private final ReconnectLoop reconnect;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final Object lock = new Object();

  /** Guarded by {@code lock}: the current stream, null while detached. */
  private ClientCallStreamObserver<HeartbeatRequest> stream;
  /** Guarded by {@code lock}. */
  private boolean closed;
  /** Set when the control plane answered that the deployment is no longer placed here. */
  private boolean released;
  /** Guarded by {@code lock}: the control plane acked a report on the current stream. */
  private boolean accepted;
  /** Guarded by {@code lock}: when the control plane was lost; null once a report saying so was acked. */
  private Instant detachedSince;
  /** Guarded by {@code lock}. */
  private long lastSequence;
  /** Guarded by {@code lock}: events not yet acked, oldest first. */
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  /** Guarded by {@code lock}. */
  private long lastEventId;
  /** Guarded by {@code lock}: events dropped here because {@code pending} was full. */
  private long droppedEvents;
  /** Guarded by {@code lock}: sequence of each unacked report → newest event id it carried. */
  private final TreeMap<Long, Long> inFlight = new TreeMap<>();
  /** Guarded by {@code lock}: sequence of the first report on this stream carrying detachedSince. */
  private long detachedReportedIn;
  /** Guarded by {@code lock}. */
  private Instant lastSentAt = Instant.EPOCH;
  /** Guarded by {@code lock}: a coalesced change report is scheduled. */
  private boolean changeQueued;
  private ScheduledFuture<?> periodic;

  public HeartbeatClient(Settings settings, Channel channel, Source source,
      ReconnectLoop.Settings reconnect, RandomGenerator random, Clock clock,
      ScheduledExecutorService scheduler) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.channel = Objects.requireNonNull(channel, "channel");
    this.stub = AgentReportServiceGrpc.newStub(channel);
    this.source = Objects.requireNonNull(source, "source");
    this.reconnect = new ReconnectLoop("Heartbeat", channel, reconnect, random, scheduler,
        this::connect);
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  /** Opens the stream and starts periodic reports. */
  public void start() {
    long millis = settings.interval().toMillis();
    periodic = scheduler.scheduleAtFixedRate(this::reportSafely, millis, millis,
        TimeUnit.MILLISECONDS);
    scheduler.execute(this::connect);
  }

  /**
   * Something changed: a report follows at once, or {@code minGap} after the previous one, so a
   * burst of changes makes at most one report per gap. Safe from any thread.
   */
  public void changed() {
    synchronized (lock) {
      if (closed || changeQueued) {
        return;
      }
      changeQueued = true;
      long wait = settings.minGap().toMillis()
          - Duration.between(lastSentAt, clock.instant()).toMillis();
      scheduler.schedule(() -> {
        synchronized (lock) {
          changeQueued = false;
        }
        reportSafely();
      }, Math.max(0, wait), TimeUnit.MILLISECONDS);
    }
  }

  /** Sends a last report, then closes the stream; no reconnect follows. */
  @Override
  public void close() {
    if (periodic != null) {
      periodic.cancel(false);
    }
    synchronized (lock) {
      if (closed) {
        return;
      }
      report();
      closed = true;
      if (stream != null) {
        try {
          stream.onCompleted();
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.DEBUG, "closing heartbeat stream", e);
        }
        stream = null;
      }
    }
  }

  /** Events waiting for an ack (for tests and the status line). */
  public int pendingEvents() {
    synchronized (lock) {
      return pending.size();
    }
  }

  /** Events not yet acked by the control plane, oldest first (taken in on every report). */
  public List<HostEvent> unackedEvents() {
    synchronized (lock) {
      return pending.stream().map(Pending::event).toList();
    }
  }

  /** True while a stream is open. */
  public boolean isConnected() {
    synchronized (lock) {
      return stream != null;
    }
  }

  private void connect() {
    synchronized (lock) {
      if (closed) {
        return;
      }
    }
    stub.heartbeat(new ClientResponseObserver<HeartbeatRequest, HeartbeatResponse>() {
      private ClientCallStreamObserver<HeartbeatRequest> mine;
      private boolean readySeen;

      @Override
      public void beforeStart(ClientCallStreamObserver<HeartbeatRequest> requestStream) {
        mine = requestStream;
        requestStream.setOnReadyHandler(() -> {
          if (!readySeen) {
            readySeen = true;
            onReady(mine);
          }
        });
      }

      @Override
      public void onNext(HeartbeatResponse response) {
        onResponse(mine, response);
      }

      @Override
      public void onError(Throwable t) {
        onLost(mine, t);
      }

      @Override
      public void onCompleted() {
        onLost(mine, Status.UNAVAILABLE.withDescription("stream completed by the control plane")
            .asRuntimeException());
      }
    });
  }

  /**
   * The control plane no longer places this deployment here (deleted or moved away): every
   * further heartbeat would be turned away, so reporting ends for good. Stopping the services
   * is left to the launcher, whose desired state says the same: an agent that stopped them and
   * exited on its own would look like a crash to a launcher that has not heard yet, and be
   * respawned.
   */
  private void released(ClientCallStreamObserver<HeartbeatRequest> from, String reason) {
    synchronized (lock) {
      if (from != stream || closed) {
        return;
      }
      closed = true;
      released = true;
      stream = null;
    }
    if (periodic != null) {
      periodic.cancel(false);
    }
    LOG.log(System.Logger.Level.WARNING, "heartbeats end: " + reason
        + "; the launcher stops this agent");
    try {
      from.onCompleted();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing heartbeat stream", e);
    }
  }

  /** True once the control plane said this deployment is no longer placed on this host. */
  public boolean isReleased() {
    synchronized (lock) {
      return released;
    }
  }

  private void onReady(ClientCallStreamObserver<HeartbeatRequest> ready) {
    synchronized (lock) {
      if (closed) {
        ready.cancel("heartbeat client closed", null);
        return;
      }
      stream = ready;
      accepted = false;
      inFlight.clear();
      detachedReportedIn = 0;
      LOG.log(System.Logger.Level.INFO, "heartbeat connected"
          + (detachedSince == null ? "" : "; detached since " + detachedSince));
      report();
    }
  }

  private void onResponse(ClientCallStreamObserver<HeartbeatRequest> from,
      HeartbeatResponse response) {
    if (response.getStop()) {
      released(from, response.getStopReason());
      return;
    }
    synchronized (lock) {
      if (from != stream) {
        return;
      }
      if (!accepted) {
        // Only an ack proves the control plane took this agent: a ready channel does not.
        accepted = true;
        reconnect.accepted();
      }
      long acked = response.getAckedSequence();
      long newestEvent = -1;
      while (!inFlight.isEmpty() && inFlight.firstKey() <= acked) {
        newestEvent = Math.max(newestEvent, inFlight.pollFirstEntry().getValue());
      }
      while (!pending.isEmpty() && pending.peekFirst().id() <= newestEvent) {
        pending.removeFirst();
      }
      if (detachedReportedIn != 0 && acked >= detachedReportedIn) {
        detachedSince = null;
        detachedReportedIn = 0;
      }
    }
    if (response.getNudge() == Nudge.NUDGE_SEND_FULL_REPORT) {
      reportSafely();
    }
  }

  private void onLost(ClientCallStreamObserver<HeartbeatRequest> from, Throwable why) {
    ReconnectLoop.Retry retry;
    synchronized (lock) {
      if (stream != null && from != stream) {
        return; // an older stream ending late
      }
      stream = null;
      inFlight.clear();
      detachedReportedIn = 0;
      if (detachedSince == null) {
        detachedSince = clock.instant();
      }
      if (closed) {
        return;
      }
      retry = reconnect.lost(why);
    }
    if (retry.reason() == ReconnectLoop.Reason.CONNECTION_LOST || retry.announce()) {
      LOG.log(System.Logger.Level.WARNING, reconnect.describe(retry));
    }
  }

  private void reportSafely() {
    try {
      synchronized (lock) {
        if (!closed) {
          report();
        }
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "heartbeat report failed", e);
    }
  }

  /** Takes new events in (also while detached, so the latest ones are kept) and sends if open. */
  private void report() {
    Map<String, PayloadRef> payloads = source.payloads();
    for (AgentEvent event : source.drainEvents()) {
      if (pending.size() >= settings.eventCapacity()) {
        pending.removeFirst();
        droppedEvents++;
      }
      long id = ++lastEventId;
      pending.addLast(new Pending(id, ProtoMapper.event(event, settings.deployment(), payloads)
          .toBuilder().setInstanceId(instanceId).setSequence(id).build()));
    }
    if (stream == null) {
      return;
    }
    AgentSnapshot snapshot = source.snapshot();
    long sequence = ++lastSequence;
    Instant now = clock.instant();
    HeartbeatRequest.Builder request = HeartbeatRequest.newBuilder()
        .setHostName(settings.hostName())
        .setDeployment(settings.deployment())
        .setVersionStatus(ProtoMapper.versionStatus(snapshot.versionStatus(),
            snapshot.sha256().map(source::isMarkedBad).orElse(false)))
        .setPressure(ProtoMapper.pressure(snapshot, settings.healingMaxAttempts(),
            droppedEvents))
        .setAgentMemoryBytes(ProcessUsage.of(ProcessHandle.current()).rssBytes())
        .setSentAt(ProtoMapper.timestamp(now))
        .setSequence(sequence)
        .setGeneration(settings.generation())
        .setContainment(snapshot.containment());
    snapshot.sha256().ifPresent(sha -> request.setPayload(ProtoMapper.payload(sha, payloads)));
    snapshot.sha256().flatMap(source::deployTimings).ifPresent(request::setDeployTimings);
    snapshot.lastKnownGood().ifPresent(sha ->
        request.setLastKnownGood(ProtoMapper.payload(sha, payloads)));
    snapshot.services().forEach(s -> request.addServices(withUsage(ProtoMapper.service(s), s)));
    ProcessHandle.current().info().totalCpuDuration()
        .ifPresent(cpu -> request.setAgentCpu(ProtoMapper.duration(cpu)));
    pending.forEach(p -> request.addEvents(p.event()));
    if (detachedSince != null) {
      request.setDetachedSince(ProtoMapper.timestamp(detachedSince));
      if (detachedReportedIn == 0) {
        detachedReportedIn = sequence;
      }
    }
    inFlight.put(sequence, pending.isEmpty() ? -1L : pending.peekLast().id());
    try {
      stream.onNext(request.build());
      lastSentAt = now;
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "heartbeat send failed", e);
    }
  }

  /** The service's memory and CPU: its supervised processes and whatever they forked. */
  private static ServiceStatus withUsage(ServiceStatus status, AgentSnapshot.ServiceSnapshot service) {
    ProcessUsage usage = ProcessUsage.ofTrees(service.processes().stream()
        .map(AgentSnapshot.ProcessSnapshot::identity)
        .toList());
    return status.toBuilder()
        .setMemoryBytes(usage.rssBytes())
        .setCpu(ProtoMapper.duration(usage.cpu()))
        .build();
  }
}
