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
import java.util.concurrent.TimeUnit;

/**
 * Thousands of hosts reconnecting at once: enrolls N hosts against an in-process control plane,
 * then opens all their mutual-TLS Sync streams together and measures how long each host waits
 * for its handshake and first answer, and how long until the control plane sees every host
 * online. Bounded in count and time; prints figures, asserts nothing about speed.
 */
public final class ReconnectStorm {

  /** What one storm measured. */
  public record Result(int hosts, int online, long enrollMillis, long stormMillis, long p50Millis,
      long p95Millis, long p99Millis, long maxMillis) {
    public String describe() {
      return String.format("reconnect storm: hosts=%d online=%d enroll=%dms storm=%dms "
              + "(%.0f hosts/s) first-answer p50=%dms p95=%dms p99=%dms max=%dms",
          hosts, online, enrollMillis, stormMillis, hosts * 1000.0 / Math.max(1, stormMillis),
          p50Millis, p95Millis, p99Millis, maxMillis);
    }
  }

  private record Host(String name, X509Certificate certificate, PrivateKey key) {}

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
    try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, Map.of())) {
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
          hosts.add(new Host(name, Pem.certificate(response.getCertificatePem()), pair.getPrivate()));
        }
      } finally {
        anonymous.shutdownNow();
      }
      long enrollMillis = (System.nanoTime() - enrollStart) / 1_000_000;

      HostLiveness liveness = controlPlane.bean(HostLiveness.class);
      List<ManagedChannel> channels = new ArrayList<>(count);
      long[] latencies = new long[count];
      ExecutorService pool = Executors.newFixedThreadPool(64);
      long stormStart = System.nanoTime();
      try {
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
            var sync = LauncherSyncServiceGrpc.newStub(channel).sync(ignoring());
            sync.onNext(SyncRequest.newBuilder().setHello(SyncHello.newBuilder().setHostName(host.name())).build());
            sync.onNext(SyncRequest.newBuilder().setReport(HostReport.getDefaultInstance()).build());
            return null;
          }));
        }
        for (Future<?> connect : connects) {
          connect.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        int online = 0;
        while (System.nanoTime() < deadline) {
          online = (int) hosts.stream()
              .filter(host -> liveness.connection(host.name()) == HostConnection.HOST_CONNECTION_ONLINE)
              .count();
          if (online == count) {
            break;
          }
          Thread.sleep(20);
        }
        long stormMillis = (System.nanoTime() - stormStart) / 1_000_000;
        long[] sorted = latencies.clone();
        Arrays.sort(sorted);
        return new Result(count, online, enrollMillis, stormMillis, percentile(sorted, 50),
            percentile(sorted, 95), percentile(sorted, 99), sorted[sorted.length - 1]);
      } finally {
        pool.shutdownNow();
        for (ManagedChannel channel : channels) {
          channel.shutdownNow();
        }
      }
    }
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
