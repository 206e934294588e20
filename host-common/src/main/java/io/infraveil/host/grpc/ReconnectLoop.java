package io.infraveil.host.grpc;

import io.grpc.Channel;
import io.grpc.Status;
import io.infraveil.host.time.Backoff;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import javax.net.ssl.SSLHandshakeException;

/**
 * The one reconnect loop of every long-lived host stream (the launcher's Sync, the agent's
 * Heartbeat and ShipLogs). A stream that breaks is reopened after a backoff; the backoff resets
 * only when the stream reports that the control plane <em>accepted</em> it (its first good
 * response), never merely because the channel became ready, so a server that takes the TCP and
 * TLS handshake and then refuses every call does not get hammered.
 *
 * <p>Two kinds of loss, two ladders:
 * <pre>
 *   CONNECTION_LOST   network, restart, overload: full jitter in [0, min(max, initial * 2^n)]
 *                     (1 s .. 30 s by default) so a fleet does not come back in lockstep
 *   IDENTITY_REFUSED  PERMISSION_DENIED / UNAUTHENTICATED / a failed TLS handshake (revoked,
 *                     unknown, not enrolled): min(refusedMax, refusedInitial * 2^n) with equal
 *                     jitter in [ceiling/2, ceiling] (30 s .. 5 min by default); retrying sooner
 *                     cannot help, and every attempt costs the control plane a security event
 * </pre>
 * Each decision says whether it is the first at its level ({@link Retry#announce()}), so callers
 * log a refusal once per level instead of once per attempt.
 *
 * <p>Thread-safe; the reconnect runs on the injected scheduler.
 */
public final class ReconnectLoop {

  /** Why a stream is being reopened. */
  public enum Reason {
    /** The stream broke or could not be opened for a reason retrying can fix. */
    CONNECTION_LOST,
    /** The control plane refused this host's identity; only an operator can fix that. */
    IDENTITY_REFUSED
  }

  /**
   * What was decided after a loss.
   *
   * @param level 0-based step on the ladder of {@code reason}
   * @param ceiling the upper bound of the wait at this level
   * @param delay the wait before the stream is reopened
   * @param announce true for the first loss at this level and reason: log it; later ones at the
   *     same level stay quiet
   * @param status the gRPC status the loss was classified from
   */
  public record Retry(Reason reason, int level, Duration ceiling, Duration delay, boolean announce,
      Status status) {
    public Retry {
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(ceiling, "ceiling");
      Objects.requireNonNull(delay, "delay");
      Objects.requireNonNull(status, "status");
    }
  }

  /** The two ladders. */
  public record Settings(Duration initial, Duration max, Duration refusedInitial,
      Duration refusedMax) {

    public static final Settings DEFAULTS = new Settings(Duration.ofSeconds(1),
        Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofMinutes(5));

    public Settings {
      // Backoff validates initial > 0 and max >= initial for both ladders.
      new Backoff(initial, max, false, RandomGenerator.getDefault());
      new Backoff(refusedInitial, refusedMax, false, RandomGenerator.getDefault());
    }

    /**
     * Ordinary losses from {@code initial} to {@code max}; refusals on the default ladder, never
     * below {@code max}.
     */
    public static Settings of(Duration initial, Duration max) {
      Duration refusedInitial = max.compareTo(DEFAULTS.refusedInitial()) > 0
          ? max : DEFAULTS.refusedInitial();
      Duration refusedMax = max.compareTo(DEFAULTS.refusedMax()) > 0 ? max : DEFAULTS.refusedMax();
      return new Settings(initial, max, refusedInitial, refusedMax);
    }
  }

  private final String stream;
  private final Channel channel;
  private final Backoff lostLadder;
  private final Backoff refusedLadder;
  private final RandomGenerator random;
  private final ScheduledExecutorService scheduler;
  private final Runnable reopen;

  /** Guarded by {@code this}: losses of each kind since the control plane last accepted. */
  private int lost;
  /** Guarded by {@code this}. */
  private int refused;
  /** Guarded by {@code this}: the level last announced, so each is announced once. */
  private Reason announcedReason;
  /** Guarded by {@code this}. */
  private Duration announcedCeiling;

  /**
   * @param stream the stream's name, for messages
   * @param reopen opens the stream again; runs on {@code scheduler} after the chosen delay
   */
  public ReconnectLoop(String stream, Channel channel, Settings settings, RandomGenerator random,
      ScheduledExecutorService scheduler, Runnable reopen) {
    this.stream = Objects.requireNonNull(stream, "stream");
    this.channel = Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(settings, "settings");
    this.random = Objects.requireNonNull(random, "random");
    this.lostLadder = new Backoff(settings.initial(), settings.max(), true, random);
    this.refusedLadder = new Backoff(settings.refusedInitial(), settings.refusedMax(), false,
        random);
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.reopen = Objects.requireNonNull(reopen, "reopen");
  }

  /** The control plane accepted the stream (its first good response): both ladders restart. */
  public synchronized void accepted() {
    lost = 0;
    refused = 0;
    announcedReason = null;
    announcedCeiling = null;
  }

  /** True when the latest loss was a refusal and nothing was accepted since. */
  public synchronized boolean refused() {
    return refused > 0 && announcedReason == Reason.IDENTITY_REFUSED;
  }

  /** Decides how long to wait after {@code error} and schedules the reopen. */
  public Retry lost(Throwable error) {
    Retry retry = decide(Status.fromThrowable(error), error);
    scheduler.schedule(() -> {
      ControlPlaneChannels.connectNow(channel); // the channel's own backoff must not add to ours
      reopen.run();
    }, retry.delay().toMillis(), TimeUnit.MILLISECONDS);
    return retry;
  }

  /** A stream name and a loss in words, for log lines. */
  public String describe(Retry retry) {
    String what = retry.status().getCode()
        + (retry.status().getDescription() == null ? "" : ": " + retry.status().getDescription());
    return switch (retry.reason()) {
      case CONNECTION_LOST -> stream + " stream lost (" + what + "); retry in " + retry.delay();
      case IDENTITY_REFUSED -> "the control plane refused this host's identity on the " + stream
          + " stream (" + what + "); services keep running on the last instructions; next attempt"
          + " in " + retry.delay() + " (at most every " + retry.ceiling() + " until an operator"
          + " re-enrolls or un-revokes the host)";
      default -> throw new AssertionError("unknown reason " + retry.reason());
    };
  }

  synchronized Retry decide(Status status, Throwable error) {
    Reason reason = classify(status, error);
    int level;
    Duration ceiling;
    Duration delay;
    switch (reason) {
      case CONNECTION_LOST -> {
        level = lost++;
        ceiling = lostLadder.ceiling(level);
        delay = lostLadder.delay(level);
      }
      case IDENTITY_REFUSED -> {
        level = refused++;
        ceiling = refusedLadder.ceiling(level);
        long half = ceiling.toMillis() / 2;
        delay = Duration.ofMillis(half + random.nextLong(ceiling.toMillis() - half + 1));
      }
      default -> throw new AssertionError("unknown reason " + reason);
    }
    boolean announce = reason != announcedReason || !ceiling.equals(announcedCeiling);
    announcedReason = reason;
    announcedCeiling = ceiling;
    return new Retry(reason, level, ceiling, delay, announce, status);
  }

  static Reason classify(Status status, Throwable error) {
    if (status.getCode() == Status.Code.PERMISSION_DENIED
        || status.getCode() == Status.Code.UNAUTHENTICATED) {
      return Reason.IDENTITY_REFUSED;
    }
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SSLHandshakeException) {
        return Reason.IDENTITY_REFUSED;
      }
    }
    return Reason.CONNECTION_LOST;
  }
}
