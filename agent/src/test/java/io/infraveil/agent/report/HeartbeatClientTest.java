package io.infraveil.agent.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.infraveil.agent.AgentEvent;
import io.infraveil.agent.AgentSettings;
import io.infraveil.agent.AgentSnapshot;
import io.infraveil.agent.Supervisor;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.TlsContexts;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.host.grpc.ReconnectLoop;
import io.infraveil.proto.v1.AgentReportServiceGrpc;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HeartbeatResponse;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ShipLogsRequest;
import io.infraveil.proto.v1.ShipLogsResponse;
import io.infraveil.proto.v1.VersionStatus;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Heartbeat stream and log shipping against a real Netty gRPC server on loopback with real
 * mutual TLS, reporting a real supervisor running a real process.
 */
class HeartbeatClientTest {

  private static final String SHA = "b".repeat(64);
  private static final PayloadRef REF = PayloadRef.newBuilder().setSha256(SHA).setSize(99)
      .setSequence(3).setVersion("v3").build();

  @TempDir Path tmp;

  /** A control plane stand-in that records heartbeats and log batches and acks on demand. */
  static final class FakeReports extends AgentReportServiceGrpc.AgentReportServiceImplBase {
    final BlockingQueue<HeartbeatRequest> heartbeats = new LinkedBlockingQueue<>();
    final BlockingQueue<ShipLogsRequest> logs = new LinkedBlockingQueue<>();
    volatile boolean ack = true;
    /** Refuse every heartbeat as the control plane refuses a deployment not placed here. */
    volatile boolean refuse;
    /** Answer as the control plane answers for a deployment deleted from this host. */
    volatile boolean deleted;
    final AtomicInteger streams = new AtomicInteger();

    @Override
    public StreamObserver<HeartbeatRequest> heartbeat(StreamObserver<HeartbeatResponse> out) {
      streams.incrementAndGet();
      return new StreamObserver<>() {
        @Override
        public void onNext(HeartbeatRequest request) {
          if (refuse) {
            out.onError(Status.PERMISSION_DENIED.withDescription("host web-1 may not report for"
                + " deployment web: it is not placed on web-1").asRuntimeException());
            return;
          }
          heartbeats.add(request);
          if (deleted) {
            out.onNext(HeartbeatResponse.newBuilder().setStop(true)
                .setStopReason("deployment web was deleted").build());
            return;
          }
          if (ack) {
            out.onNext(HeartbeatResponse.newBuilder()
                .setAckedSequence(request.getSequence()).build());
          }
        }

        @Override
        public void onError(Throwable t) { }

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }

    @Override
    public StreamObserver<ShipLogsRequest> shipLogs(StreamObserver<ShipLogsResponse> out) {
      return new StreamObserver<>() {
        @Override
        public void onNext(ShipLogsRequest request) {
          logs.add(request);
        }

        @Override
        public void onError(Throwable t) { }

        @Override
        public void onCompleted() {
          out.onNext(ShipLogsResponse.getDefaultInstance());
          out.onCompleted();
        }
      };
    }

    HeartbeatRequest await(String what, Predicate<HeartbeatRequest> condition, Duration within)
        throws InterruptedException {
      long deadline = System.nanoTime() + within.toNanos();
      HeartbeatRequest last = null;
      while (System.nanoTime() < deadline) {
        HeartbeatRequest next = heartbeats.poll(50, TimeUnit.MILLISECONDS);
        if (next != null) {
          last = next;
          if (condition.test(next)) {
            return next;
          }
        }
      }
      throw new AssertionError("no heartbeat with " + what + " within " + within
          + "; last: " + last);
    }
  }

  CertificateAuthority ca;
  X509Certificate serverCert;
  final KeyPair serverKeys = KeyPairs.ecP256();
  Server server;
  FakeReports reports;
  ManagedChannel channel;
  final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  Supervisor supervisor;
  HeartbeatClient client;

  @BeforeEach
  void setUp() throws Exception {
    ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    serverCert = ca.issue(serverKeys.getPublic(),
        new Identity("test.infraveil", Identity.Kind.CONTROL_PLANE, "cp"), Duration.ofHours(1),
        List.of("127.0.0.1"));
    startServer(0);
    KeyPair hostKeys = KeyPairs.ecP256();
    X509Certificate hostCert = ca.issue(hostKeys.getPublic(),
        Identity.host("test.infraveil", "web-1"), Duration.ofHours(1), List.of());
    channel = ControlPlaneChannels.build(
        new ControlPlaneChannels.Target("127.0.0.1", server.getPort()),
        TlsContexts.client(List.of(ca.certificate()), List.of(hostCert), hostKeys.getPrivate()),
        ControlPlaneChannels.Settings.DEFAULTS);

    Path release = tmp.resolve("release");
    Files.createDirectories(release);
    Files.writeString(release.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "echo hello from api; exec sleep 1000" ]
            stop_timeout: 1s
        """);
    AgentSettings settings = AgentSettings.defaults()
        .withStartWatch(Duration.ofMillis(200))
        .withHealing(8, Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofMinutes(10))
        .withTick(Duration.ofMillis(50));
    supervisor = new Supervisor(tmp.resolve("agent"), sha -> release, settings,
        Clock.systemUTC(), scheduler);
  }

  private void startServer(int port) throws Exception {
    reports = new FakeReports();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .sslContext(TlsContexts.server(List.of(serverCert), serverKeys.getPrivate(),
            List.of(ca.certificate()), ClientAuth.REQUIRE))
        .permitKeepAliveTime(1, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .addService(reports)
        .build()
        .start();
  }

  private HeartbeatClient client(Duration interval) {
    return client(interval, ReconnectLoop.Settings.of(Duration.ofMillis(50), Duration.ofMillis(200)));
  }

  private HeartbeatClient client(Duration interval, ReconnectLoop.Settings reconnect) {
    HeartbeatClient.Source source = new HeartbeatClient.Source() {
      @Override
      public AgentSnapshot snapshot() {
        return supervisor.snapshot();
      }

      @Override
      public List<AgentEvent> drainEvents() {
        return supervisor.drainEvents();
      }

      @Override
      public boolean isMarkedBad(String sha256) {
        return supervisor.isMarkedBad(sha256);
      }

      @Override
      public Map<String, PayloadRef> payloads() {
        return Map.of(SHA, REF);
      }
    };
    client = new HeartbeatClient(new HeartbeatClient.Settings("web-1", "web", 7, interval,
        Duration.ofMillis(200), 100, 8), channel, source,
        reconnect, new SplittableRandom(1), Clock.systemUTC(), scheduler);
    supervisor.addListener(s -> client.changed());
    return client;
  }

  @AfterEach
  void tearDown() throws Exception {
    if (client != null) {
      client.close();
    }
    supervisor.stop();
    supervisor.close();
    scheduler.shutdownNow();
    channel.shutdownNow();
    server.shutdownNow();
  }

  private static boolean running(HeartbeatRequest h) {
    return h.getServicesCount() == 1
        && h.getServices(0).getState() == ServiceState.SERVICE_STATE_RUNNING;
  }

  private static boolean hasEvent(HeartbeatRequest h, EventKind kind) {
    return h.getEventsList().stream().anyMatch(e -> e.getKind() == kind);
  }

  // The first report names host, deployment, generation and payload; then the running service.
  @Test
  void firstHeartbeatCarriesTheFullReport() throws Exception {
    client(Duration.ofSeconds(10)).start();
    HeartbeatRequest first = reports.await("any", h -> true, Duration.ofSeconds(10));
    assertEquals("web-1", first.getHostName());
    assertEquals("web", first.getDeployment());
    assertEquals(7, first.getGeneration());
    assertEquals(1, first.getSequence());
    assertTrue(first.hasSentAt());
    assertTrue(first.getAgentMemoryBytes() > 0, "memory " + first.getAgentMemoryBytes());
    assertFalse(first.hasDetachedSince());

    supervisor.start(SHA);
    HeartbeatRequest up = reports.await("api RUNNING", HeartbeatClientTest::running,
        Duration.ofSeconds(5));
    assertEquals(REF, up.getPayload());
    assertEquals(VersionStatus.VERSION_STATUS_CANDIDATE, up.getVersionStatus());
    assertEquals(1, up.getServices(0).getProcessesCount());
    assertTrue(up.getServices(0).getProcesses(0).getPid() > 0);
    assertEquals(0, up.getServices(0).getRestartsTotal());
    assertTrue(up.getServices(0).getMemoryBytes() > 0, "the service's resident memory is reported: "
        + up.getServices(0).getMemoryBytes());
    assertTrue(up.getSequence() > first.getSequence());
  }

  // kill -9 of the service: a report follows the change well before the 10 s interval,
  // counting the restart and carrying the SERVICE_UNHEALTHY event.
  @Test
  void serviceCrashIsReportedOnChangeWithRestartsCounted() throws Exception {
    client(Duration.ofSeconds(10)).start();
    supervisor.start(SHA);
    HeartbeatRequest up = reports.await("api RUNNING", HeartbeatClientTest::running,
        Duration.ofSeconds(5));
    long pid = up.getServices(0).getProcesses(0).getPid();

    long killedAt = System.nanoTime();
    new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();

    HeartbeatRequest healed = reports.await("a restart counted", h -> running(h)
        && h.getServices(0).getRestartsTotal() == 1, Duration.ofSeconds(5));
    assertTrue(System.nanoTime() - killedAt < Duration.ofSeconds(5).toNanos());
    assertEquals(1, healed.getServices(0).getRestartsInWindow());
    assertTrue(healed.getServices(0).getProcesses(0).getPid() != pid);
    assertEquals(1.0 / 8, healed.getPressure().getRestartPressure());
  }

  // A deployment deleted on the control plane gets a "stop" answer, not a refusal: the agent
  // stops reporting for good (no new stream, no further heartbeat) and leaves the stop of its
  // services to the launcher.
  @Test
  void stopAnswerEndsReportingWithoutReconnecting() throws Exception {
    reports.deleted = true;
    HeartbeatClient c = client(Duration.ofMillis(100));
    c.start();
    reports.await("any", h -> true, Duration.ofSeconds(10));
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!c.isReleased() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(c.isReleased(), "the stop answer releases the client");
    reports.heartbeats.clear();
    supervisor.start(SHA); // a change that would otherwise be reported at once

    Thread.sleep(1000); // ten heartbeat intervals and several reconnect delays
    assertEquals(0, reports.heartbeats.size(), "no heartbeat after the stop answer");
    assertEquals(1, reports.streams.get(), "no new stream after the stop answer");
  }

  // A refusal (the stream opens, the first heartbeat is refused) climbs the refusal ladder:
  // opening the stream is not acceptance, so the backoff does not reset on every attempt.
  @Test
  void refusedHeartbeatBacksOffOnTheRefusalLadderUntilAccepted() throws Exception {
    reports.refuse = true;
    client(Duration.ofMillis(150), new ReconnectLoop.Settings(Duration.ofMillis(50),
        Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofMillis(1600))).start();
    Thread.sleep(2000);
    int attempts = reports.streams.get();
    // At 0, then after >= 200 ms, >= 400 ms, >= 800 ms: at most 4 in 2 s. The usual ladder
    // (50 .. 200 ms) reset at every ready stream makes 10 or more.
    assertTrue(attempts >= 2 && attempts <= 4, "heartbeat streams in 2 s while refused: "
        + attempts);

    reports.refuse = false;
    reports.await("a heartbeat once accepted", h -> true, Duration.ofSeconds(5));
  }

  // Without acks every report repeats the events; after an ack they are gone.
  @Test
  void eventsAreResentUntilAcked() throws Exception {
    reports.ack = false;
    client(Duration.ofMillis(150)).start();
    supervisor.start(SHA);
    HeartbeatRequest first = reports.await("VERSION_STARTED", h ->
        hasEvent(h, EventKind.EVENT_KIND_VERSION_STARTED), Duration.ofSeconds(5));
    HostEvent started = first.getEventsList().stream()
        .filter(e -> e.getKind() == EventKind.EVENT_KIND_VERSION_STARTED).findFirst()
        .orElseThrow();
    assertEquals("web", started.getDeployment());
    assertEquals(REF, started.getPayload());
    // Each event names this agent process and its place among its events, so the control
    // plane can keep one of each however often it is re-sent.
    assertFalse(started.getInstanceId().isEmpty());
    assertTrue(first.getEventsList().stream()
        .allMatch(e -> e.getInstanceId().equals(started.getInstanceId())));
    List<Long> sequences = first.getEventsList().stream().map(HostEvent::getSequence).toList();
    assertEquals(sequences.stream().sorted().distinct().toList(), sequences, "increasing");
    assertTrue(sequences.get(0) >= 1, sequences.toString());
    HeartbeatRequest again = reports.await("a later report", h ->
        h.getSequence() >= first.getSequence() + 2, Duration.ofSeconds(5));
    assertTrue(again.getEventsList().contains(started), "re-sent while unacked");
    assertEquals(1, again.getEventsList().stream()
        .filter(e -> e.getKind() == EventKind.EVENT_KIND_VERSION_STARTED).count());

    reports.ack = true;
    HeartbeatRequest acked = reports.await("acked report", h -> true, Duration.ofSeconds(5));
    HeartbeatRequest after = reports.await("report after the ack",
        h -> h.getSequence() > acked.getSequence(), Duration.ofSeconds(5));
    assertFalse(after.getEventsList().contains(started), after.getEventsList().toString());
    assertEquals(0, client.pendingEvents());
  }

  // The control plane restarts on the same port: the client reconnects on its own and says
  // since when it was detached, until a report saying so is acked.
  @Test
  void reconnectsAfterServerRestartAndReportsDetachedSince() throws Exception {
    client(Duration.ofMillis(200)).start();
    supervisor.start(SHA);
    reports.await("api RUNNING", HeartbeatClientTest::running, Duration.ofSeconds(5));
    int port = server.getPort();

    java.time.Instant before = java.time.Instant.now();
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (client.isConnected() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertFalse(client.isConnected(), "stream loss noticed");
    Thread.sleep(300);
    startServer(port);

    HeartbeatRequest back = reports.await("detached_since", HeartbeatRequest::hasDetachedSince,
        Duration.ofSeconds(10));
    assertTrue(back.getDetachedSince().getSeconds() >= before.getEpochSecond());
    assertTrue(running(back), "latest state sent on reconnect");
    HeartbeatRequest later = reports.await("a report after the ack",
        h -> h.getSequence() > back.getSequence() + 1, Duration.ofSeconds(5));
    assertFalse(later.hasDetachedSince(), "cleared once acked");
  }

  // Console lines reach the control plane in batches stamped with the payload hash.
  @Test
  void logLinesAreShippedWithThePayloadHash() throws Exception {
    LogShipper shipper = new LogShipper(new LogShipper.Settings("web-1", "web", 500,
        Duration.ofMillis(100)), channel, supervisor.logQueue(), () -> SHA,
        ReconnectLoop.Settings.of(Duration.ofMillis(50), Duration.ofMillis(200)),
        new SplittableRandom(1),
        scheduler);
    shipper.start();
    try {
      supervisor.start(SHA);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      io.infraveil.proto.v1.LogLine found = null;
      while (found == null && System.nanoTime() < deadline) {
        ShipLogsRequest batch = reports.logs.poll(50, TimeUnit.MILLISECONDS);
        if (batch != null) {
          assertEquals("web-1", batch.getHostName());
          assertEquals("web", batch.getDeployment());
          found = batch.getLinesList().stream()
              .filter(l -> l.getText().equals("hello from api")).findFirst().orElse(null);
        }
      }
      assertTrue(found != null, "line shipped");
      assertEquals("api", found.getService());
      assertEquals(SHA, found.getPayloadSha256());
      assertEquals(io.infraveil.proto.v1.LogStream.LOG_STREAM_STDOUT, found.getStream());
    } finally {
      shipper.close();
    }
  }
}
