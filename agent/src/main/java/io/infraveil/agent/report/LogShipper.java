package io.infraveil.agent.report;

import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.infraveil.agent.LogLine;
import io.infraveil.agent.LogQueue;
import io.grpc.Status;
import io.infraveil.host.grpc.ReconnectLoop;
import io.infraveil.proto.v1.AgentReportServiceGrpc;
import io.infraveil.proto.v1.ShipLogsRequest;
import io.infraveil.proto.v1.ShipLogsResponse;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Moves console lines from the supervisor's {@link LogQueue} to the control plane over a
 * long-lived ShipLogs client stream: every {@code flushInterval} it sends batches of at most
 * {@code batchSize} lines while the stream can take them. Lines are taken from the queue only
 * when they can be sent, so a slow or absent control plane leaves them in the queue, which drops
 * the oldest and counts; nothing here ever blocks a service. Each batch says how many lines
 * were dropped since the previous one. A broken stream is reopened through the
 * {@link ReconnectLoop}. ShipLogs answers only when the stream ends, so the stream counts as
 * accepted once it is still open at the flush after the one that sent its first batch: the
 * control plane refuses a caller when the call starts, long before that.
 */
public final class LogShipper implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(LogShipper.class.getName());

  /** Where the lines come from and how they are batched. */
  public record Settings(String hostName, String deployment, int batchSize,
      Duration flushInterval) {

    public static final int DEFAULT_BATCH_SIZE = 500;
    public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofSeconds(1);

    public Settings {
      Objects.requireNonNull(hostName, "hostName");
      Objects.requireNonNull(deployment, "deployment");
      Objects.requireNonNull(flushInterval, "flushInterval");
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
      }
      if (flushInterval.isNegative() || flushInterval.isZero()) {
        throw new IllegalArgumentException("flushInterval must be positive, got "
            + flushInterval);
      }
    }
  }

  private final Settings settings;
  private final Channel channel;
  private final AgentReportServiceGrpc.AgentReportServiceStub stub;
  private final LogQueue queue;
  private final Supplier<String> payloadSha256;
  private final ReconnectLoop reconnect;
  private final ScheduledExecutorService scheduler;
  private final Object lock = new Object();

  /** Guarded by {@code lock}. */
  private ClientCallStreamObserver<ShipLogsRequest> stream;
  /** Guarded by {@code lock}: a stream is being opened or waits for its reconnect delay. */
  private boolean opening;
  /** Guarded by {@code lock}: batches handed to the current stream. */
  private long batchesOnStream;
  /** Guarded by {@code lock}: the current stream outlived its first batch by a flush. */
  private boolean accepted;
  /** Guarded by {@code lock}. */
  private boolean closed;
  /** Guarded by {@code lock}: the queue's drop count already reported. */
  private long droppedReported;
  /** Guarded by {@code lock}. */
  private long shipped;
  private ScheduledFuture<?> flusher;

  /**
   * @param payloadSha256 the version running now; lines are stamped with it when they are
   *     shipped (at most one flush interval after they were read)
   */
  public LogShipper(Settings settings, Channel channel, LogQueue queue,
      Supplier<String> payloadSha256, ReconnectLoop.Settings reconnect, RandomGenerator random,
      ScheduledExecutorService scheduler) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.channel = Objects.requireNonNull(channel, "channel");
    this.stub = AgentReportServiceGrpc.newStub(channel);
    this.queue = Objects.requireNonNull(queue, "queue");
    this.payloadSha256 = Objects.requireNonNull(payloadSha256, "payloadSha256");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.reconnect = new ReconnectLoop("ShipLogs", channel, reconnect, random, scheduler, () -> {
      synchronized (lock) {
        if (!closed) {
          open();
        }
      }
    });
  }

  public void start() {
    long millis = settings.flushInterval().toMillis();
    flusher = scheduler.scheduleWithFixedDelay(this::flushSafely, millis, millis,
        TimeUnit.MILLISECONDS);
  }

  /** Lines sent so far. */
  public long shipped() {
    synchronized (lock) {
      return shipped;
    }
  }

  /** Sends what can be sent now, then ends the stream. */
  @Override
  public void close() {
    if (flusher != null) {
      flusher.cancel(false);
    }
    synchronized (lock) {
      if (closed) {
        return;
      }
      flush();
      closed = true;
      if (stream != null) {
        try {
          stream.onCompleted();
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.DEBUG, "closing log stream", e);
        }
        stream = null;
      }
    }
  }

  private void flushSafely() {
    try {
      synchronized (lock) {
        if (!closed) {
          flush();
        }
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "log shipping failed", e);
    }
  }

  private void flush() {
    if (stream == null) {
      if (!opening && queue.size() > 0) {
        open();
      }
      return;
    }
    if (!accepted && batchesOnStream > 0) {
      accepted = true;
      reconnect.accepted();
    }
    String sha = payloadSha256.get();
    while (stream.isReady()) {
      List<LogLine> lines = queue.drain(settings.batchSize());
      long dropped = queue.dropped();
      if (lines.isEmpty() && dropped == droppedReported) {
        return;
      }
      ShipLogsRequest.Builder batch = ShipLogsRequest.newBuilder()
          .setHostName(settings.hostName())
          .setDeployment(settings.deployment())
          .setDroppedLines(dropped - droppedReported);
      lines.forEach(line -> batch.addLines(ProtoMapper.logLine(line, sha)));
      stream.onNext(batch.build());
      droppedReported = dropped;
      shipped += lines.size();
      batchesOnStream++;
      if (lines.size() < settings.batchSize()) {
        return;
      }
    }
  }

  private void open() {
    opening = true;
    stub.shipLogs(new ClientResponseObserver<ShipLogsRequest, ShipLogsResponse>() {
      private ClientCallStreamObserver<ShipLogsRequest> mine;
      private boolean readySeen;

      @Override
      public void beforeStart(ClientCallStreamObserver<ShipLogsRequest> requestStream) {
        mine = requestStream;
        requestStream.setOnReadyHandler(() -> {
          synchronized (lock) {
            if (!readySeen) {
              readySeen = true;
              opening = false;
              batchesOnStream = 0;
              accepted = false;
              if (closed) {
                mine.cancel("log shipper closed", null);
                return;
              }
              stream = mine;
            }
          }
          flushSafely();
        });
      }

      @Override
      public void onNext(ShipLogsResponse response) {
        if (response.getStop()) {
          // The deployment is no longer placed here: later lines would be turned away too.
          LOG.log(System.Logger.Level.WARNING, "log shipping ends: " + response.getStopReason());
          close();
        }
      }

      @Override
      public void onError(Throwable t) {
        lost(mine, t);
      }

      @Override
      public void onCompleted() {
        lost(mine, Status.UNAVAILABLE.withDescription("stream completed by the control plane")
            .asRuntimeException());
      }
    });
  }

  private void lost(ClientCallStreamObserver<ShipLogsRequest> from, Throwable why) {
    ReconnectLoop.Retry retry;
    synchronized (lock) {
      if (stream != null && stream != from) {
        return;
      }
      stream = null;
      if (closed) {
        return;
      }
      opening = true; // until the delayed open the loop schedules
      retry = reconnect.lost(why);
    }
    if (retry.reason() == ReconnectLoop.Reason.CONNECTION_LOST || retry.announce()) {
      LOG.log(System.Logger.Level.WARNING, reconnect.describe(retry));
    }
  }
}
