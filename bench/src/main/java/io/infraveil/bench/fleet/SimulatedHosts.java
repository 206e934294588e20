package io.infraveil.bench.fleet;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import io.infraveil.certs.TlsContexts;
import io.infraveil.controlplane.enroll.JoinTokens;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
import io.infraveil.proto.v1.SyncHello;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.SyncResponse;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Hosts with real certificates (enrolled through the control plane's Enroll RPC) that hold one
 * mutual-TLS Sync stream each, as launchers do, and send reports on it.
 */
final class SimulatedHosts implements AutoCloseable {

  /** One enrolled host; its stream is written by one thread at a time (guarded by the host). */
  static final class Host {
    final String name;
    final X509Certificate certificate;
    final PrivateKey key;
    ManagedChannel channel;
    StreamObserver<SyncRequest> stream;

    Host(String name, X509Certificate certificate, PrivateKey key) {
      this.name = name;
      this.certificate = certificate;
      this.key = key;
    }

    /** A report with no timestamp (not counted by the bench's phases), if the stream is open. */
    synchronized void sendIfOpen() {
      if (stream != null) {
        try {
          send(HostReport.getDefaultInstance());
        } catch (RuntimeException closed) {
          // the stream ended; nothing to report on
        }
      }
    }

    synchronized void send(HostReport report) {
      stream.onNext(SyncRequest.newBuilder().setReport(report).build());
    }
  }

  private final int port;
  private final List<X509Certificate> cas;
  final List<Host> hosts = new ArrayList<>();

  private SimulatedHosts(int port, List<X509Certificate> cas) {
    this.port = port;
    this.cas = cas;
  }

  /** Enrolls {@code count} hosts named {@code host-00000}…, {@code threads} at a time. */
  static SimulatedHosts enroll(int port, List<X509Certificate> cas, JoinTokens tokens, int count, int threads)
      throws Exception {
    SimulatedHosts out = new SimulatedHosts(port, cas);
    ManagedChannel anonymous = out.channel(null, null);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      var enrollment = EnrollmentServiceGrpc.newBlockingStub(anonymous);
      List<Future<Host>> enrolled = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        String name = String.format("host-%05d", i);
        enrolled.add(pool.submit(() -> {
          String token = tokens.create(name, Duration.ofMinutes(30), Map.of(), "bench").token();
          KeyPair pair = KeyPairs.ecP256();
          var response = enrollment.withDeadlineAfter(60, TimeUnit.SECONDS).enroll(EnrollRequest.newBuilder()
              .setJoinToken(token).setHostName(name).setCsrPem(Csrs.createPem(pair, name)).build());
          return new Host(name, Pem.certificate(response.getCertificatePem()), pair.getPrivate());
        }));
      }
      for (Future<Host> host : enrolled) {
        out.hosts.add(host.get());
      }
    } finally {
      pool.shutdownNow();
      anonymous.shutdownNow();
    }
    return out;
  }

  /** Opens every host's Sync stream (hello, then a first report), {@code threads} handshakes at a time. */
  void connectAll(int threads) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> opened = new ArrayList<>();
      for (Host host : hosts) {
        opened.add(pool.submit(() -> {
          host.channel = channel(host.certificate, host.key);
          awaitAnswer(host.channel);
          synchronized (host) {
            host.stream = LauncherSyncServiceGrpc.newStub(host.channel).sync(ignoring());
            host.stream.onNext(SyncRequest.newBuilder().setHello(SyncHello.newBuilder().setHostName(host.name)).build());
            host.stream.onNext(SyncRequest.newBuilder().setReport(HostReport.getDefaultInstance()).build());
          }
          return null;
        }));
      }
      for (Future<?> f : opened) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Health until the control plane answers over the host's channel (handshake included), as a
   * launcher waits for an answer before it counts a stream as open; a failed attempt is retried.
   */
  private static void awaitAnswer(ManagedChannel channel) throws InterruptedException {
    for (int attempt = 1;; attempt++) {
      try {
        HealthGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance());
        return;
      } catch (io.grpc.StatusRuntimeException failed) {
        if (attempt == 20) {
          throw failed;
        }
        channel.resetConnectBackoff();
        Thread.sleep(500 + java.util.concurrent.ThreadLocalRandom.current().nextInt(1000));
      }
    }
  }

  private ManagedChannel channel(X509Certificate certificate, PrivateKey key) throws Exception {
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

  @Override
  public void close() {
    for (Host host : hosts) {
      if (host.channel != null) {
        host.channel.shutdownNow();
      }
    }
  }
}
