package io.infraveil.launcher;

import com.google.protobuf.Duration;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.Status;
import io.infraveil.host.grpc.ControlPlaneChannel;
import io.infraveil.host.grpc.ReconnectLoop;
import io.infraveil.proto.v1.DesiredStateAck;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
import io.infraveil.proto.v1.SyncHello;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.SyncResponse;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * The launcher's end of the Sync stream. Opens with a hello naming the held revision; on every
 * newer desired state it persists first, then acks, then reconciles; older revisions are
 * ignored. Sends a full report on connect, on change and every report interval. When the stream
 * breaks it reconnects through the {@link ReconnectLoop} while the reconciler keeps acting on
 * the persisted desired state: the backoff restarts only once the control plane accepted the
 * stream (its first response, {@code accepted} or a desired state), and a refused identity
 * (revoked, unknown) waits up to 5 minutes between attempts, logged once per level as
 * {@code sync_refused} while the agents keep running; the first report after a reconnect says how long it was detached
 * ({@code detached_since}, {@code detached_for}), later reports do not (the control plane shows
 * a host whose report carries them as DETACHED, "catching up"). A detachment not yet reported
 * when the stream breaks again is carried into the next one, so its start is never lost.
 *
 * <p>All stream state is touched only on {@code scheduler}, which must be single-threaded.
 */
public final class SyncClient {

  /** Who the launcher says it is, and how often it reports. */
  public record Settings(String hostName, String launcherVersion, java.time.Duration reportInterval) {
    public Settings {
      Objects.requireNonNull(hostName, "hostName");
      Objects.requireNonNull(launcherVersion, "launcherVersion");
      Objects.requireNonNull(reportInterval, "reportInterval");
    }
  }

  private final Settings settings;
  private final Channel channel;
  private final LauncherSyncServiceGrpc.LauncherSyncServiceStub stub;
  private final Reconciler reconciler;
  private final ReconnectLoop reconnect;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final LauncherLog log;

  // Confined to the scheduler thread.
  private ClientCallStreamObserver<SyncRequest> stream;
  private boolean connected;
  /** The control plane answered on the current stream. */
  private boolean accepted;
  private boolean closed;
  private int attempt;
  private Instant detachedSince;
  /** A detachment that ended and is not reported yet; null once a report carried it. */
  private Instant unreportedDetachedSince;
  private java.time.Duration unreportedDetachedFor;
  /**
   * A report carrying the detachment went out on this stream before the control plane
   * accepted it: the detachment counts as reported only once it does (a refused stream
   * recorded nothing).
   */
  private boolean detachmentSentUnaccepted;
  private ScheduledFuture<?> reporter;
  /** Names this launcher process in every event id, so the control plane keeps one of each. */
  private final String instanceId = java.util.UUID.randomUUID().toString();
  private long lastEventSequence;
  /** Confined to the scheduler thread. */
  private final List<Supplier<List<HostEvent>>> eventSources = new ArrayList<>();

  public SyncClient(Settings settings, Channel channel, Reconciler reconciler,
      ReconnectLoop.Settings reconnect, RandomGenerator random, Clock clock,
      ScheduledExecutorService scheduler, LauncherLog log) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.channel = Objects.requireNonNull(channel, "channel");
    this.stub = LauncherSyncServiceGrpc.newStub(channel);
    this.reconciler = Objects.requireNonNull(reconciler, "reconciler");
    this.reconnect = new ReconnectLoop("Sync", channel, reconnect, random, scheduler,
        this::connect);
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.log = Objects.requireNonNull(log, "log");
  }

  /** Events from beyond the reconciler (cache evictions) to send with the next report. */
  public void addEventSource(Supplier<List<HostEvent>> source) {
    Objects.requireNonNull(source, "source");
    scheduler.execute(() -> eventSources.add(source));
  }

  /** Opens the stream and starts periodic reports. */
  public void start() {
    reconciler.setChangeListener(() -> scheduler.execute(this::report));
    scheduler.execute(this::connect);
    long millis = settings.reportInterval().toMillis();
    reporter = scheduler.scheduleAtFixedRate(this::report, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** Closes the stream; no reconnect follows. */
  public void close() {
    scheduler.execute(() -> {
      closed = true;
      if (reporter != null) {
        reporter.cancel(false);
      }
      if (stream != null) {
        stream.onCompleted();
      }
    });
  }

  private void connect() {
    if (closed) {
      return;
    }
    // One line per attempt: while refused that is at most a few a minute.
    log.event("sync_connect", "attempt", attempt, "held_revision", reconciler.heldRevision());
    ClientResponseObserver<SyncRequest, SyncResponse> observer = new ClientResponseObserver<>() {
      private ClientCallStreamObserver<SyncRequest> mine;
      private boolean readySeen;

      @Override
      public void beforeStart(ClientCallStreamObserver<SyncRequest> requestStream) {
        mine = requestStream;
        requestStream.setOnReadyHandler(() -> {
          if (!readySeen) {
            readySeen = true;
            scheduler.execute(() -> onReady(mine));
          }
        });
      }

      @Override
      public void onNext(SyncResponse response) {
        scheduler.execute(() -> onResponse(mine, response));
      }

      @Override
      public void onError(Throwable t) {
        scheduler.execute(() -> onLost(mine, t));
      }

      @Override
      public void onCompleted() {
        scheduler.execute(() -> onLost(mine, Status.UNAVAILABLE
            .withDescription("stream completed by the control plane").asRuntimeException()));
      }
    };
    stub.sync(observer);
  }

  private void onReady(ClientCallStreamObserver<SyncRequest> ready) {
    if (stream != null && stream != ready) {
      return;
    }
    stream = ready;
    connected = true;
    accepted = false;
    Instant now = clock.instant();
    if (detachedSince != null) {
      unreportedDetachedSince = detachedSince;
      unreportedDetachedFor = java.time.Duration.between(detachedSince, now);
      detachedSince = null;
    }
    send(SyncRequest.newBuilder().setHello(SyncHello.newBuilder()
        .setHostName(settings.hostName())
        .setHeldRevision(reconciler.heldRevision())
        .setLauncherVersion(settings.launcherVersion())).build());
    report();
  }

  private void onResponse(ClientCallStreamObserver<SyncRequest> from, SyncResponse response) {
    if (from != stream) {
      return;
    }
    if (!accepted) {
      // Only an answer proves the control plane took this host: a ready channel does not.
      accepted = true;
      attempt = 0;
      reconnect.accepted();
      log.event("sync_connected", "held_revision", reconciler.heldRevision(),
          "detached_for", unreportedDetachedFor == null ? "none" : unreportedDetachedFor,
          "control_plane", answering());
      if (detachmentSentUnaccepted) {
        unreportedDetachedSince = null;
        unreportedDetachedFor = null;
        detachmentSentUnaccepted = false;
      }
    }
    if (!response.hasDesired()) {
      return;
    }
    DesiredSnapshot desired;
    try {
      desired = DesiredSnapshot.of(response.getDesired());
    } catch (IllegalArgumentException e) {
      log.event("desired_invalid", "revision", response.getDesired().getRevision(),
          "error", e.getMessage());
      return;
    }
    try {
      if (!reconciler.acceptDesired(desired)) {
        log.event("desired_ignored", "revision", desired.revision(),
            "held_revision", reconciler.heldRevision());
        return;
      }
    } catch (IOException e) {
      // Not on disk, so not acked and not acted on; the control plane sends it again.
      log.event("desired_not_persisted", "revision", desired.revision(), "error", e.getMessage());
      return;
    }
    send(SyncRequest.newBuilder()
        .setAck(DesiredStateAck.newBuilder().setRevision(desired.revision())).build());
    reconciler.reconcile();
    report();
  }

  /** The replica this stream landed on, when the channel knows it. */
  private String answering() {
    return channel instanceof ControlPlaneChannel replicas
        ? replicas.answering().map(Object::toString).orElse("unknown") : "unknown";
  }

  private void onLost(ClientCallStreamObserver<SyncRequest> from, Throwable why) {
    if (from != stream && stream != null) {
      return;
    }
    stream = null;
    connected = false;
    accepted = false;
    detachmentSentUnaccepted = false;
    if (detachedSince == null) {
      // Connected but the detachment before was never reported: it has not ended yet.
      detachedSince = unreportedDetachedSince != null ? unreportedDetachedSince : clock.instant();
      unreportedDetachedSince = null;
      unreportedDetachedFor = null;
    }
    if (closed) {
      return;
    }
    attempt++;
    ReconnectLoop.Retry retry = reconnect.lost(why);
    switch (retry.reason()) {
      case CONNECTION_LOST -> log.event("sync_lost", "error", why.toString(),
          "retry_in", retry.delay());
      case IDENTITY_REFUSED -> {
        if (retry.announce()) {
          log.event("sync_refused", "status", retry.status().getCode(),
              "error", String.valueOf(retry.status().getDescription()), "level", retry.level(),
              "retry_in", retry.delay(), "retry_max", retry.ceiling(),
              "agents", "kept running on desired revision " + reconciler.heldRevision());
        }
      }
      default -> throw new AssertionError("unknown reason " + retry.reason());
    }
  }

  private void report() {
    if (!connected || stream == null) {
      return;
    }
    HostReport.Builder report = HostReport.newBuilder()
        .setReportedAt(Reconciler.timestamp(clock.instant()))
        .setDesiredRevision(reconciler.heldRevision())
        .addAllAgents(reconciler.statuses())
        .addAllEvents(Stream.concat(reconciler.drainEvents().stream(),
                eventSources.stream().flatMap(source -> source.get().stream()))
            .map(event -> event.toBuilder().setInstanceId(instanceId)
                .setSequence(++lastEventSequence).build())
            .toList());
    boolean carriesDetachment = unreportedDetachedSince != null;
    if (carriesDetachment) {
      report.setDetachedSince(Reconciler.timestamp(unreportedDetachedSince));
      report.setDetachedFor(Duration.newBuilder().setSeconds(unreportedDetachedFor.getSeconds())
          .setNanos(unreportedDetachedFor.getNano()));
    }
    if (send(SyncRequest.newBuilder().setReport(report).build()) && carriesDetachment) {
      if (!accepted) {
        detachmentSentUnaccepted = true; // cleared once the control plane accepts the stream
        return;
      }
      unreportedDetachedSince = null;
      unreportedDetachedFor = null;
    }
  }

  /** True when the request was handed to the stream. */
  private boolean send(SyncRequest request) {
    try {
      stream.onNext(request);
      return true;
    } catch (RuntimeException e) {
      log.event("sync_send_failed", "error", e.toString());
      return false;
    }
  }
}
