package io.infraveil.bench;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.certs.TlsContexts;
import io.infraveil.controlplane.ControlPlane;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.DesiredStateAck;
import io.infraveil.proto.v1.HostConnection;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.PutDeploymentRequest;
import io.infraveil.proto.v1.RolloutStrategy;
import io.infraveil.proto.v1.SyncHello;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.SyncResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
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
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Fan-out of one deployment change: N enrolled hosts hold mutual-TLS Sync streams to an
 * in-process control plane (reporting every 10 s and acking each desired state, as launchers
 * do); an operator's PutDeployment names all N, first as a new deployment, then as new versions
 * moved to every host at once ({@code max_parallel} N, no canary). For each put: the call's
 * time, and the time until each host's stream received a desired state naming the new version,
 * counted from the call's return and from its start (p50/p99/max). Prints figures, asserts
 * nothing about speed.
 */
public final class FanOutBench {

  /** One put: the call, and when each host heard of it (sorted, milliseconds). */
  public record Put(String what, long callMillis, long[] fromReturn, long[] fromStart, int reached) {
    String describe(int hosts) {
      return String.format("  %s: PutDeployment=%dms reached=%d/%d from return p50=%dms p99=%dms max=%dms;"
              + " from start p50=%dms p99=%dms max=%dms",
          what, callMillis, reached, hosts, BenchHosts.percentile(fromReturn, 50),
          BenchHosts.percentile(fromReturn, 99), fromReturn[fromReturn.length - 1],
          BenchHosts.percentile(fromStart, 50), BenchHosts.percentile(fromStart, 99),
          fromStart[fromStart.length - 1]);
    }
  }

  /** What one run measured. */
  public record Result(int hosts, int online, long enrollMillis, long connectMillis, List<Put> puts) {
    public String describe() {
      StringBuilder out = new StringBuilder(String.format(
          "fan-out: hosts=%d online=%d enroll=%dms connect=%dms (Sync streams over mutual TLS, one JVM)",
          hosts, online, enrollMillis, connectMillis));
      puts.forEach(put -> out.append(System.lineSeparator()).append(put.describe(hosts)));
      return out.toString();
    }

    /** Whether every put reached every host. */
    public boolean reachedAll() {
      return puts.stream().allMatch(put -> put.reached() == hosts);
    }
  }

  private FanOutBench() {}

  public static void main(String[] args) throws Exception {
    int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int versions = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Path dir = Files.createTempDirectory("infraveil-fanout");
    System.out.println(run(dir, hosts, versions, Duration.ofMinutes(10)).describe());
    System.exit(0); // executor threads of the control plane may outlive its close; the figures are out
  }

  public static Result run(Path dir, int count, int versions, Duration timeout) throws Exception {
    PkiDirectory pki = new PkiDirectory(dir.resolve("pki"), Clock.systemUTC());
    CertificateAuthority ca = pki.init("bench.infraveil");
    List<X509Certificate> cas = List.of(ca.certificate());
    KeyPair operatorPair = KeyPairs.ecP256();
    X509Certificate operatorCert = ca.issue(operatorPair.getPublic(),
        Identity.operator(ca.trustDomain(), "bench"), Duration.ofHours(1), List.of());
    List<ManagedChannel> channels = new ArrayList<>(count);
    ExecutorService pool = Executors.newFixedThreadPool(64);
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, Map.of())) {
      int port = controlPlane.grpcPort();
      long enrollStart = System.nanoTime();
      List<BenchHosts.Enrolled> hosts = BenchHosts.enroll(controlPlane, cas, count);
      long enrollMillis = millisSince(enrollStart);
      List<String> payloads = new ArrayList<>();
      for (int v = 0; v <= Math.max(1, versions); v++) {
        payloads.add(BenchHosts.upload(controlPlane, dir, "1." + v));
      }

      Receivers receivers = new Receivers(count);
      List<StreamObserver<SyncRequest>> streams = new ArrayList<>(count);
      long connectStart = System.nanoTime();
      List<Future<StreamObserver<SyncRequest>>> connects = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        BenchHosts.Enrolled host = hosts.get(i);
        ManagedChannel channel = BenchHosts.channel(port, cas, host.certificate(), host.key());
        channels.add(channel);
        int index = i;
        connects.add(pool.submit(() -> {
          HealthGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .check(HealthCheckRequest.getDefaultInstance());
          return receivers.open(channel, host.name(), index);
        }));
      }
      for (Future<StreamObserver<SyncRequest>> connect : connects) {
        streams.add(connect.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
      }
      timer.scheduleAtFixedRate(() -> streams.forEach(Receivers::report), 10, 10, TimeUnit.SECONDS);
      int online = awaitOnline(controlPlane, hosts, timeout);
      long connectMillis = millisSince(connectStart);

      ManagedChannel operatorChannel = BenchHosts.channel(port, cas, operatorCert, operatorPair.getPrivate());
      channels.add(operatorChannel);
      var operator = OperatorServiceGrpc.newBlockingStub(operatorChannel);
      // One call first so the channel's handshake is not part of the first put.
      operator.withDeadlineAfter(1, TimeUnit.MINUTES).listDeployments(ListDeploymentsRequest.getDefaultInstance());
      List<String> names = hosts.stream().map(BenchHosts.Enrolled::name).toList();
      List<Put> puts = new ArrayList<>();
      for (int v = 0; v <= Math.max(1, versions); v++) {
        PutDeploymentRequest.Builder put = PutDeploymentRequest.newBuilder().setName("fleet")
            .setPayloadSha256(payloads.get(v)).addAllHosts(names);
        if (v > 0) {
          // Every host at once: the figure is the fan-out, not the batches of a rollout.
          put.setRollout(RolloutStrategy.newBuilder().setCanary(0).setMaxParallel(count));
        }
        receivers.expect(payloads.get(v));
        long start = System.nanoTime();
        operator.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).putDeployment(put.build());
        long returned = System.nanoTime();
        receivers.await(timeout);
        puts.add(receivers.figures(v == 0 ? "new deployment" : "new version " + v, start, returned));
      }
      return new Result(count, online, enrollMillis, connectMillis, puts);
    } finally {
      pool.shutdownNow();
      timer.shutdownNow();
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  /** The hosts' streams, and when each first received a desired state naming the expected payload. */
  private static final class Receivers {
    private final AtomicLongArray receivedAt;
    private volatile String expected = "";

    Receivers(int count) {
      receivedAt = new AtomicLongArray(count);
    }

    StreamObserver<SyncRequest> open(ManagedChannel channel, String name, int index) {
      StreamObserver<SyncRequest>[] stream = newStreamHolder();
      StreamObserver<SyncResponse> answers = new StreamObserver<>() {
        @Override
        public void onNext(SyncResponse response) {
          if (!response.hasDesired()) {
            return;
          }
          DesiredState desired = response.getDesired();
          String sha = expected;
          if (desired.getAgentsList().stream().anyMatch(a -> a.getPayload().getSha256().equals(sha))) {
            receivedAt.compareAndSet(index, 0, System.nanoTime());
          }
          // As a launcher does once it persisted the state.
          send(stream[0], SyncRequest.newBuilder().setAck(DesiredStateAck.newBuilder()
              .setRevision(desired.getRevision())).build());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };
      StreamObserver<SyncRequest> sync = LauncherSyncServiceGrpc.newStub(channel).sync(answers);
      stream[0] = sync;
      send(sync, SyncRequest.newBuilder().setHello(SyncHello.newBuilder().setHostName(name)).build());
      report(sync);
      return sync;
    }

    @SuppressWarnings("unchecked")
    private static StreamObserver<SyncRequest>[] newStreamHolder() {
      return new StreamObserver[1];
    }

    static void report(StreamObserver<SyncRequest> stream) {
      send(stream, SyncRequest.newBuilder().setReport(HostReport.getDefaultInstance()).build());
    }

    private static void send(StreamObserver<SyncRequest> stream, SyncRequest request) {
      if (stream == null) {
        return;
      }
      synchronized (stream) {
        try {
          stream.onNext(request);
        } catch (RuntimeException closed) {
          // The stream ended; nothing more to say on it.
        }
      }
    }

    void expect(String sha256) {
      for (int i = 0; i < receivedAt.length(); i++) {
        receivedAt.set(i, 0);
      }
      expected = sha256;
    }

    void await(Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline && reached() < receivedAt.length()) {
        Thread.sleep(5);
      }
    }

    int reached() {
      int reached = 0;
      for (int i = 0; i < receivedAt.length(); i++) {
        if (receivedAt.get(i) != 0) {
          reached++;
        }
      }
      return reached;
    }

    Put figures(String what, long start, long returned) {
      int n = receivedAt.length();
      long[] fromReturn = new long[n];
      long[] fromStart = new long[n];
      for (int i = 0; i < n; i++) {
        long at = receivedAt.get(i);
        // A host never reached counts as the longest wait; one reached before the return as 0.
        fromReturn[i] = at == 0 ? Long.MAX_VALUE : Math.max(0, (at - returned) / 1_000_000);
        fromStart[i] = at == 0 ? Long.MAX_VALUE : (at - start) / 1_000_000;
      }
      Arrays.sort(fromReturn);
      Arrays.sort(fromStart);
      return new Put(what, (returned - start) / 1_000_000, fromReturn, fromStart, reached());
    }
  }

  private static int awaitOnline(ControlPlane controlPlane, List<BenchHosts.Enrolled> hosts, Duration timeout)
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

  private static long millisSince(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }
}
