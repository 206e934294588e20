package io.infraveil.host.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.infraveil.host.grpc.ReconnectLoop.Reason;
import io.infraveil.host.grpc.ReconnectLoop.Retry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The shared reconnect policy: two ladders, reset only on acceptance, one log line per level. */
class ReconnectLoopTest {

  private final ManagedChannel channel =
      NettyChannelBuilder.forAddress("127.0.0.1", 9).usePlaintext().build();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final AtomicInteger reopened = new AtomicInteger();

  @AfterEach
  void tearDown() throws Exception {
    scheduler.shutdownNow();
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private ReconnectLoop loop(ReconnectLoop.Settings settings, long seed) {
    return new ReconnectLoop("Sync", channel, settings, new SplittableRandom(seed), scheduler,
        reopened::incrementAndGet);
  }

  private static Status denied() {
    return Status.PERMISSION_DENIED.withDescription("certificate revoked");
  }

  // A refused identity climbs 30 s, 1, 2, 4 min to 5 min, never sooner than half each level,
  // and is announced once per level: quiet at the cap.
  @Test
  void refusalClimbsToFiveMinutesAndIsAnnouncedOncePerLevel() {
    ReconnectLoop loop = loop(ReconnectLoop.Settings.DEFAULTS, 7);
    List<Duration> ceilings = new ArrayList<>();
    List<Boolean> announced = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      Retry retry = loop.decide(denied(), denied().asRuntimeException());
      assertEquals(Reason.IDENTITY_REFUSED, retry.reason());
      assertEquals(i, retry.level());
      assertTrue(retry.delay().compareTo(retry.ceiling().dividedBy(2)) >= 0, retry.toString());
      assertTrue(retry.delay().compareTo(retry.ceiling()) <= 0, retry.toString());
      ceilings.add(retry.ceiling());
      announced.add(retry.announce());
    }
    assertEquals(List.of(Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(2),
        Duration.ofMinutes(4), Duration.ofMinutes(5), Duration.ofMinutes(5),
        Duration.ofMinutes(5)), ceilings);
    assertEquals(List.of(true, true, true, true, true, false, false), announced);
    assertTrue(loop.refused());
  }

  // Ordinary losses keep the 1 s .. 30 s full-jitter ladder.
  @Test
  void lostConnectionUsesFullJitterUpToItsCap() {
    ReconnectLoop loop = loop(ReconnectLoop.Settings.DEFAULTS, 3);
    List<Duration> ceilings = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      Retry retry = loop.decide(Status.UNAVAILABLE, Status.UNAVAILABLE.asRuntimeException());
      assertEquals(Reason.CONNECTION_LOST, retry.reason());
      assertFalse(retry.delay().isNegative());
      assertTrue(retry.delay().compareTo(retry.ceiling()) <= 0, retry.toString());
      ceilings.add(retry.ceiling());
    }
    assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 30L, 30L),
        ceilings.stream().map(Duration::toSeconds).toList());
    assertFalse(loop.refused());
  }

  // Only acceptance resets: without it every reopen climbs the ladder, with it both restart.
  @Test
  void onlyAcceptanceRestartsTheLadders() {
    ReconnectLoop loop = loop(ReconnectLoop.Settings.DEFAULTS, 1);
    loop.decide(denied(), null);
    loop.decide(denied(), null);
    loop.decide(Status.UNAVAILABLE, null);
    assertEquals(1, loop.decide(Status.UNAVAILABLE, null).level());
    Retry third = loop.decide(denied(), null);
    assertEquals(2, third.level());
    assertTrue(third.announce(), "back to refusals after a connection loss is a new level");

    loop.accepted();

    Retry afterAccept = loop.decide(denied(), null);
    assertEquals(0, afterAccept.level());
    assertEquals(Duration.ofSeconds(30), afterAccept.ceiling());
    assertTrue(afterAccept.announce());
    assertEquals(0, loop.decide(Status.UNAVAILABLE, null).level());
  }

  // The bound the issue asks for: a revoked host makes at most a handful of attempts a minute.
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 42, 1234, 99999})
  void refusedHostMakesAtMostThreeAttemptsInItsFirstMinute(long seed) {
    ReconnectLoop loop = loop(ReconnectLoop.Settings.DEFAULTS, seed);
    Duration at = Duration.ZERO; // the first attempt, refused at once
    int attemptsInFirstMinute = 1;
    int attemptsInTenMinutes = 1;
    while (true) {
      at = at.plus(loop.decide(denied(), null).delay());
      if (at.compareTo(Duration.ofMinutes(10)) > 0) {
        break;
      }
      attemptsInTenMinutes++;
      if (at.compareTo(Duration.ofMinutes(1)) <= 0) {
        attemptsInFirstMinute++;
      }
    }
    assertTrue(attemptsInFirstMinute <= 3, "attempts in the first minute: " + attemptsInFirstMinute);
    assertTrue(attemptsInTenMinutes <= 8, "attempts in ten minutes: " + attemptsInTenMinutes);
  }

  @Test
  void classifiesRefusalsByStatusAndFailedHandshake() {
    assertEquals(Reason.IDENTITY_REFUSED, ReconnectLoop.classify(Status.PERMISSION_DENIED, null));
    assertEquals(Reason.IDENTITY_REFUSED, ReconnectLoop.classify(Status.UNAUTHENTICATED, null));
    Exception handshake = Status.UNAVAILABLE.withCause(new SSLHandshakeException("bad_certificate"))
        .asRuntimeException();
    assertEquals(Reason.IDENTITY_REFUSED,
        ReconnectLoop.classify(Status.fromThrowable(handshake), handshake));
    assertEquals(Reason.CONNECTION_LOST, ReconnectLoop.classify(Status.UNAVAILABLE,
        Status.UNAVAILABLE.asRuntimeException()));
    assertEquals(Reason.CONNECTION_LOST, ReconnectLoop.classify(Status.ABORTED, null));
  }

  // lost() schedules exactly one reopen after the decided delay.
  @Test
  void lostSchedulesOneReopen() throws Exception {
    ReconnectLoop loop = loop(new ReconnectLoop.Settings(Duration.ofMillis(20),
        Duration.ofMillis(20), Duration.ofMillis(40), Duration.ofMillis(40)), 5);
    Retry retry = loop.lost(denied().asRuntimeException());
    assertEquals(Reason.IDENTITY_REFUSED, retry.reason());
    assertTrue(loop.describe(retry).contains("refused this host's identity on the Sync stream"),
        loop.describe(retry));
    assertTrue(loop.describe(retry).contains("certificate revoked"), loop.describe(retry));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (reopened.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    Thread.sleep(100);
    assertEquals(1, reopened.get());
  }
}
