package io.infraveil.bench;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.certs.TlsContexts;
import io.infraveil.certs.TlsProvider;
import io.infraveil.controlplane.grpc.HandshakeLimiter;
import io.infraveil.controlplane.grpc.ServerTlsContext;
import io.infraveil.controlplane.ControlPlane;
import io.infraveil.controlplane.enroll.JoinTokens;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.HostConnection;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
import io.infraveil.proto.v1.SyncHello;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.SyncResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Thousands of hosts reconnecting at once: enrolls N hosts against an in-process control plane,
 * then opens all their mutual-TLS Sync streams together and measures how long each host waits
 * for its handshake and first answer, and how long until the control plane sees every host
 * online. Then restarts the control plane (same data dir and port) and measures the same for
 * all hosts coming back at once, each with its TLS session cache (so they can resume), with
 * the handshakes resumed and queued. Bounded in count and time; prints figures, asserts
 * nothing about speed.
 */
public final class ReconnectStorm {

  /** What one storm measured: the first connections, then the reconnection after a restart. */
  public record Result(int hosts, int online, long enrollMillis, long stormMillis, long p50Millis,
      long p95Millis, long p99Millis, long maxMillis, Restart restart) {
    public String describe() {
      return String.format("reconnect storm: hosts=%d online=%d enroll=%dms storm=%dms "
              + "(%.0f hosts/s) first-answer p50=%dms p95=%dms p99=%dms max=%dms%n%s",
          hosts, online, enrollMillis, stormMillis, hosts * 1000.0 / Math.max(1, stormMillis),
          p50Millis, p95Millis, p99Millis, maxMillis, restart.describe(hosts));
    }
  }

  /**
   * All hosts reconnecting at once to a restarted control plane (same data dir and port), each
   * retrying a failed attempt after a jittered 0.5–1.5 s as a launcher does.
   */
  public record Restart(long restartMillis, int online, long onlineMillis, long p50Millis, long p99Millis,
      long maxMillis, long failedAttempts, long resumedHandshakes, long queuedHandshakes,
      int peakQueuedHandshakes, String tlsProvider) {
    String describe(int hosts) {
      return String.format("after a restart (%s, control plane up in %dms): online=%d of %d in %dms "
              + "(%.0f hosts/s) first-answer p50=%dms p99=%dms max=%dms failed-attempts=%d "
              + "resumed-handshakes=%d queued-handshakes=%d (peak %d waiting)",
          tlsProvider, restartMillis, online, hosts, onlineMillis, hosts * 1000.0 / Math.max(1, onlineMillis),
          p50Millis, p99Millis, maxMillis, failedAttempts, resumedHandshakes, queuedHandshakes,
          peakQueuedHandshakes);
    }
  }

  private record Host(String name, X509Certificate certificate, PrivateKey key,
      AtomicReference<StreamObserver<SyncRequest>> stream) {}

  private ReconnectStorm() {}

  public static void main(String[] args) throws Exception {
    int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    Path dir = Files.createTempDirectory("infraveil-storm");
    System.out.println(run(dir, hosts, Duration.ofMinutes(5)).describe());
  }

  public static Result run(Path dir, int count, Duration timeout) throws Exception {
    PkiDirectory pki = new PkiDirectory(dir.resolve("pki"), Clock.systemUTC());
    pki.init("bench.infraveil");
    List<X509Certificate> cas = List.of(pki.ca().certificate());
    ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, Map.of());
    List<ManagedChannel> channels = new ArrayList<>(count);
    ExecutorService pool = Executors.newFixedThreadPool(64);
    ScheduledExecutorService retries = Executors.newScheduledThreadPool(2);
    try {
      int port = controlPlane.grpcPort();
      JoinTokens tokens = controlPlane.bean(JoinTokens.class);
      long enrollStart = System.nanoTime();
      List<Host> hosts = new ArrayList<>(count);
      ManagedChannel anonymous = channel(port, cas, null, null);
      try {
        var enrollment = EnrollmentServiceGrpc.newBlockingStub(anonymous);
        for (int i = 0; i < count; i++) {
          String name = String.format("host-%05d", i);
          String token = tokens.create(name, Duration.ofMinutes(30), Map.of(), "bench").token();
          KeyPair pair = KeyPairs.ecP256();
          var response = enrollment.withDeadlineAfter(30, TimeUnit.SECONDS).enroll(EnrollRequest.newBuilder()
              .setJoinToken(token).setHostName(name).setCsrPem(Csrs.createPem(pair, name)).build());
          hosts.add(new Host(name, Pem.certificate(response.getCertificatePem()), pair.getPrivate(),
              new AtomicReference<>()));
        }
      } finally {
        anonymous.shutdownNow();
      }
      long enrollMillis = (System.nanoTime() - enrollStart) / 1_000_000;

      reportEvery10Seconds(hosts, retries);
      long[] latencies = new long[count];
      long stormStart = System.nanoTime();
      List<Future<?>> connects = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        Host host = hosts.get(i);
        ManagedChannel channel = channel(port, cas, host.certificate(), host.key());
        channels.add(channel);
        int index = i;
        connects.add(pool.submit(() -> {
          long start = System.nanoTime();
          HealthGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .check(HealthCheckRequest.getDefaultInstance());
          latencies[index] = (System.nanoTime() - start) / 1_000_000;
          openSync(channel, host);
          return null;
        }));
      }
      for (Future<?> connect : connects) {
        connect.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      }
      int online = awaitOnline(controlPlane, hosts, timeout);
      long stormMillis = (System.nanoTime() - stormStart) / 1_000_000;
      long[] sorted = latencies.clone();
      Arrays.sort(sorted);

      // The control plane restarts; every host comes back at once, with its TLS session cache.
      long restartStart = System.nanoTime();
      controlPlane.close();
      controlPlane = startOnPort(dir, port);
      long restartMillis = (System.nanoTime() - restartStart) / 1_000_000;
      long reconnectStart = System.nanoTime();
      LongAdder failed = new LongAdder();
      List<CompletableFuture<Long>> answers = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        CompletableFuture<Long> answer = new CompletableFuture<>();
        reconnect(channels.get(i), hosts.get(i), reconnectStart, answer, failed, retries,
            System.nanoTime() + timeout.toNanos());
        answers.add(answer);
      }
      long[] reconnects = new long[count];
      for (int i = 0; i < count; i++) {
        try {
          reconnects[i] = answers.get(i).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException gaveUp) {
          reconnects[i] = Long.MAX_VALUE;
        }
      }
      int reonline = awaitOnline(controlPlane, hosts, timeout);
      long onlineMillis = (System.nanoTime() - reconnectStart) / 1_000_000;
      Arrays.sort(reconnects);
      ServerTlsContext tls = controlPlane.bean(ServerTlsContext.class);
      HandshakeLimiter.Stats gate = tls.handshakeLimiter().stats();
      Restart restart = new Restart(restartMillis, reonline, onlineMillis, percentile(reconnects, 50),
          percentile(reconnects, 99), reconnects[count - 1], failed.sum(), tls.resumedHandshakes(),
          gate.queued(), gate.peakWaiting(), TlsProvider.chosen().name().toLowerCase(java.util.Locale.ROOT));
      return new Result(count, online, enrollMillis, stormMillis, percentile(sorted, 50),
          percentile(sorted, 95), percentile(sorted, 99), sorted[sorted.length - 1], restart);
    } finally {
      pool.shutdownNow();
      retries.shutdownNow();
      for (ManagedChannel channel : channels) {
        channel.shutdownNow();
      }
      controlPlane.close();
    }
  }

  private static void openSync(ManagedChannel channel, Host host) {
    var sync = LauncherSyncServiceGrpc.newStub(channel).sync(ignoring());
    synchronized (sync) {
      sync.onNext(SyncRequest.newBuilder().setHello(SyncHello.newBuilder().setHostName(host.name())).build());
      sync.onNext(SyncRequest.newBuilder().setReport(HostReport.getDefaultInstance()).build());
    }
    host.stream().set(sync);
  }

  /** Every host reports every 10 s, as launchers do, so none turns offline while others connect. */
  private static void reportEvery10Seconds(List<Host> hosts, ScheduledExecutorService timer) {
    timer.scheduleAtFixedRate(() -> {
      for (Host host : hosts) {
        StreamObserver<SyncRequest> stream = host.stream().get();
        if (stream != null) {
          synchronized (stream) {
            try {
              stream.onNext(SyncRequest.newBuilder().setReport(HostReport.getDefaultInstance()).build());
            } catch (RuntimeException closed) {
              // The stream ended (a restart); the host's reconnection opens a new one.
            }
          }
        }
      }
    }, 10, 10, TimeUnit.SECONDS);
  }

  /** One host's reconnection: health until it answers (retrying after a jittered pause), then Sync. */
  private static void reconnect(ManagedChannel channel, Host host, long since, CompletableFuture<Long> answer,
      LongAdder failed, ScheduledExecutorService retries, long deadlineNanos) {
    channel.resetConnectBackoff();
    var call = HealthGrpc.newFutureStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
    call.addListener(() -> {
      try {
        call.get();
        answer.complete((System.nanoTime() - since) / 1_000_000);
        openSync(channel, host);
      } catch (Exception attemptFailed) {
        failed.increment();
        if (System.nanoTime() > deadlineNanos) {
          answer.completeExceptionally(attemptFailed);
          return;
        }
        retries.schedule(() -> reconnect(channel, host, since, answer, failed, retries, deadlineNanos),
            500 + ThreadLocalRandom.current().nextInt(1000), TimeUnit.MILLISECONDS);
      }
    }, Runnable::run);
  }

  /** Starts the control plane again on {@code port}, waiting out a port still held by the old one. */
  private static ControlPlane startOnPort(Path dir, int port) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        // The status page on a free port too: a fixed one may be another program's.
        return ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), port, Map.of("infraveil.http-port", 0));
      } catch (RuntimeException portBusy) {
        if (System.nanoTime() > deadline) {
          throw portBusy;
        }
        Thread.sleep(200);
      }
    }
  }

  private static int awaitOnline(ControlPlane controlPlane, List<Host> hosts, Duration timeout)
      throws InterruptedException {
    HostLiveness liveness = controlPlane.bean(HostLiveness.class);
    long deadline = System.nanoTime() + timeout.toNanos();
    int online = 0;
    while (System.nanoTime() < deadline) {
      online = (int) hosts.stream()
          .filter(host -> liveness.connection(host.name()) == HostConnection.HOST_CONNECTION_ONLINE)
          .count();
      if (online == hosts.size()) {
        break;
      }
      Thread.sleep(20);
    }
    return online;
  }

  private static long percentile(long[] sorted, int p) {
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static ManagedChannel channel(int port, List<X509Certificate> cas, X509Certificate certificate,
      PrivateKey key) throws Exception {
    return NettyChannelBuilder.forAddress("localhost", port)
        .sslContext(TlsContexts.client(cas, certificate == null ? null : List.of(certificate), key))
        .build();
  }

  private static StreamObserver<SyncResponse> ignoring() {
    return new StreamObserver<>() {
      @Override
      public void onNext(SyncResponse value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }
}
