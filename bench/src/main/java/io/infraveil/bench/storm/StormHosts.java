package io.infraveil.bench.storm;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import io.infraveil.certs.TlsContexts;
import io.infraveil.proto.v1.CreateJoinTokenRequest;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.SyncHello;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.SyncResponse;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * One load-generator process of a reconnect storm: simulated hosts with their own keys and
 * certificates, one mutual-TLS channel (one socket) each, talking to a control plane in another
 * process. Enrolls its hosts at start (join tokens made with the operator certificate, several
 * at a time), then obeys lines on stdin:
 *
 * <pre>
 *   connect | reconnect   every host at once: health until it answers (a failed attempt is
 *                         retried after a jittered 0.5–1.5 s, as launchers do), then its Sync
 *                         stream; the host is online when the control plane accepts the hello
 *   quit                  exit
 * </pre>
 *
 * and answers on stdout with {@code storm enrolled COUNT MILLIS} and, per phase,
 * {@code storm done PHASE failed=N answers=MS,... online=MS,...} (milliseconds since the command;
 * -1 for a host that gave up). Each host reports every 10 s once connected.
 */
public final class StormHosts {

  private static final int ENROLL_THREADS = 8;

  /** One simulated host: its channel and the Sync stream it holds now. */
  private record Host(String name, ManagedChannel channel, AtomicReference<StreamObserver<SyncRequest>> stream) {}

  private final List<Host> hosts;
  private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(1);
  private final long phaseTimeoutMillis;
  /** Failed attempts of the current phase by reason. */
  private final java.util.Map<String, LongAdder> failures = new java.util.concurrent.ConcurrentHashMap<>();
  /** Hosts whose 10 s report is scheduled (once per host, whatever stream it holds). */
  private final java.util.Set<String> reporting = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private StormHosts(List<Host> hosts, long phaseTimeoutMillis) {
    this.hosts = hosts;
    this.phaseTimeoutMillis = phaseTimeoutMillis;
  }

  /** Arguments: PORT CA_FILE OPERATOR_CERT OPERATOR_KEY FIRST_INDEX COUNT PHASE_TIMEOUT_SECONDS. */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    Path ca = Path.of(args[1]);
    Path operatorCert = Path.of(args[2]);
    Path operatorKey = Path.of(args[3]);
    int first = Integer.parseInt(args[4]);
    int count = Integer.parseInt(args[5]);
    long timeoutMillis = TimeUnit.SECONDS.toMillis(Long.parseLong(args[6]));

    long enrollStart = System.nanoTime();
    List<Host> hosts = enroll(port, ca, operatorCert, operatorKey, first, count);
    say("enrolled " + hosts.size() + " " + (System.nanoTime() - enrollStart) / 1_000_000);
    StormHosts storm = new StormHosts(hosts, timeoutMillis);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null && !line.equals("quit")) {
      if (line.equals("connect") || line.equals("reconnect")) {
        say("done " + line + " " + storm.phase());
      }
    }
    for (Host host : hosts) {
      host.channel().shutdownNow();
    }
    System.exit(0);
  }

  private static synchronized void say(String line) {
    System.out.println("storm " + line);
    System.out.flush();
  }

  /** Makes a join token for each host with the operator's certificate and enrolls it, several at once. */
  private static List<Host> enroll(int port, Path ca, Path operatorCert, Path operatorKey, int first, int count)
      throws Exception {
    List<X509Certificate> cas = List.of(Pem.certificate(java.nio.file.Files.readString(ca)));
    ManagedChannel operator = NettyChannelBuilder.forAddress("localhost", port)
        .sslContext(TlsContexts.client(ca, operatorCert, operatorKey)).build();
    ManagedChannel anonymous = NettyChannelBuilder.forAddress("localhost", port)
        .sslContext(TlsContexts.client(cas, null, null)).build();
    ExecutorService pool = Executors.newFixedThreadPool(ENROLL_THREADS);
    try {
      var tokens = OperatorServiceGrpc.newBlockingStub(operator);
      var enrollment = EnrollmentServiceGrpc.newBlockingStub(anonymous);
      List<Future<Host>> enrolled = new ArrayList<>(count);
      for (int i = first; i < first + count; i++) {
        String name = String.format("host-%05d", i);
        enrolled.add(pool.submit(() -> {
          String token = tokens.withDeadlineAfter(60, TimeUnit.SECONDS).createJoinToken(CreateJoinTokenRequest
              .newBuilder().setHostName(name).setTtlSeconds(3600).build()).getJoinToken();
          KeyPair pair = KeyPairs.ecP256();
          var response = enrollment.withDeadlineAfter(60, TimeUnit.SECONDS).enroll(EnrollRequest.newBuilder()
              .setJoinToken(token).setHostName(name).setCsrPem(Csrs.createPem(pair, name)).build());
          X509Certificate certificate = Pem.certificate(response.getCertificatePem());
          ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", port)
              .sslContext(TlsContexts.client(cas, List.of(certificate), pair.getPrivate())).build();
          return new Host(name, channel, new AtomicReference<>());
        }));
      }
      List<Host> hosts = new ArrayList<>(count);
      for (Future<Host> host : enrolled) {
        hosts.add(host.get());
      }
      return hosts;
    } finally {
      pool.shutdownNow();
      operator.shutdownNow();
      anonymous.shutdownNow();
    }
  }

  /** Every host at once, until each is online or gave up; the answer line's fields. */
  private String phase() throws Exception {
    long since = System.nanoTime();
    long deadline = since + TimeUnit.MILLISECONDS.toNanos(phaseTimeoutMillis);
    LongAdder failed = new LongAdder();
    List<AtomicLong> answers = new ArrayList<>(hosts.size());
    List<CompletableFuture<Long>> online = new ArrayList<>(hosts.size());
    for (Host host : hosts) {
      AtomicLong answer = new AtomicLong(-1);
      CompletableFuture<Long> accepted = new CompletableFuture<>();
      answers.add(answer);
      online.add(accepted);
      attempt(host, since, deadline, answer, accepted, failed);
    }
    List<Long> onlineMillis = new ArrayList<>(hosts.size());
    for (CompletableFuture<Long> accepted : online) {
      try {
        onlineMillis.add(accepted.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException gaveUp) {
        onlineMillis.add(-1L);
      }
    }
    // Why attempts failed, most frequent first, in this process's log (stderr).
    failures.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue().sum(), a.getValue().sum())).limit(5)
        .forEach(e -> System.err.println("storm failed attempts: " + e.getValue().sum() + " × " + e.getKey()));
    failures.clear();
    return "failed=" + failed.sum()
        + " answers=" + answers.stream().map(a -> Long.toString(a.get())).collect(Collectors.joining(","))
        + " online=" + onlineMillis.stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  /** One try of one host: health, then its Sync stream; a failure tries again after a jittered pause. */
  private void attempt(Host host, long since, long deadline, AtomicLong answer, CompletableFuture<Long> accepted,
      LongAdder failed) {
    host.channel().resetConnectBackoff();
    var call = HealthGrpc.newFutureStub(host.channel()).withDeadlineAfter(30, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
    call.addListener(() -> {
      try {
        call.get();
        answer.compareAndSet(-1, (System.nanoTime() - since) / 1_000_000);
        openSync(host, since, deadline, answer, accepted, failed);
      } catch (Exception attemptFailed) {
        retry(host, since, deadline, answer, accepted, failed, attemptFailed);
      }
    }, Runnable::run);
  }

  private void retry(Host host, long since, long deadline, AtomicLong answer, CompletableFuture<Long> accepted,
      LongAdder failed, Throwable why) {
    failed.increment();
    failures.computeIfAbsent(reason(why), key -> new LongAdder()).increment();
    if (System.nanoTime() > deadline) {
      accepted.completeExceptionally(why);
      return;
    }
    timer.schedule(() -> attempt(host, since, deadline, answer, accepted, failed),
        500 + ThreadLocalRandom.current().nextInt(1000), TimeUnit.MILLISECONDS);
  }

  private void openSync(Host host, long since, long deadline, AtomicLong answer, CompletableFuture<Long> accepted,
      LongAdder failed) {
    StreamObserver<SyncRequest> sync = LauncherSyncServiceGrpc.newStub(host.channel()).sync(new StreamObserver<>() {
      @Override
      public void onNext(SyncResponse response) {
        if (response.hasAccepted() && accepted.complete((System.nanoTime() - since) / 1_000_000)) {
          startReporting(host);
        }
      }

      @Override
      public void onError(Throwable t) {
        host.stream().set(null);
        if (!accepted.isDone()) {
          retry(host, since, deadline, answer, accepted, failed, t);
        }
      }

      @Override
      public void onCompleted() {
        host.stream().set(null);
      }
    });
    synchronized (sync) {
      sync.onNext(SyncRequest.newBuilder().setHello(SyncHello.newBuilder().setHostName(host.name())).build());
      sync.onNext(SyncRequest.newBuilder().setReport(HostReport.getDefaultInstance()).build());
    }
    host.stream().set(sync);
  }

  /** A failure's status and description, without what differs per host or connection. */
  private static String reason(Throwable why) {
    io.grpc.Status status = io.grpc.Status.fromThrowable(why);
    Throwable cause = status.getCause();
    String text = status.getCode() + ": " + status.getDescription()
        + (cause == null ? "" : " (" + cause.getClass().getSimpleName() + ": " + cause.getMessage() + ")");
    return text.replaceAll("host-\\d+", "host-N").replaceAll("\\d+(\\.\\d+)?(ms|s|ns)\\b", "T");
  }

  /** Reports every 10 s from now on, on whichever stream the host holds then (launchers do). */
  private void startReporting(Host host) {
    if (reporting.add(host.name())) {
      timer.scheduleAtFixedRate(() -> {
        StreamObserver<SyncRequest> stream = host.stream().get();
        if (stream != null) {
          synchronized (stream) {
            try {
              stream.onNext(SyncRequest.newBuilder().setReport(HostReport.getDefaultInstance()).build());
            } catch (RuntimeException closed) {
              // The stream ended (a restart); the next phase opens a new one.
            }
          }
        }
      }, 10, 10, TimeUnit.SECONDS);
    }
  }
}
