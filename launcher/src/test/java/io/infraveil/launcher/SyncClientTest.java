package io.infraveil.launcher;

import static io.infraveil.launcher.TestAgents.V1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.TlsContexts;
import io.infraveil.host.grpc.ControlPlaneChannel;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.host.grpc.ControlPlaneEndpoints;
import io.infraveil.host.grpc.ReconnectLoop;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
import io.infraveil.proto.v1.SyncAccepted;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.SyncResponse;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Sync stream against a real Netty gRPC server on loopback with real mutual TLS. */
class SyncClientTest {

  @TempDir Path data;

  /** A control plane stand-in: records what arrives; on each ack notes the revision on disk. */
  final class FakeControlPlane extends LauncherSyncServiceGrpc.LauncherSyncServiceImplBase {
    final BlockingQueue<SyncRequest> received = new LinkedBlockingQueue<>();
    final BlockingQueue<Long> revisionOnDiskAtAck = new LinkedBlockingQueue<>();
    volatile StreamObserver<SyncResponse> toLauncher;
    /** Answer each hello as the real control plane does. */
    volatile boolean acceptHello = true;

    @Override
    public StreamObserver<SyncRequest> sync(StreamObserver<SyncResponse> responses) {
      toLauncher = responses;
      return new StreamObserver<>() {
        @Override
        public void onNext(SyncRequest request) {
          if (request.hasHello() && acceptHello) {
            responses.onNext(SyncResponse.newBuilder().setAccepted(SyncAccepted.newBuilder()
                .setRevision(request.getHello().getHeldRevision())).build());
          }
          if (request.hasAck()) {
            try {
              revisionOnDiskAtAck.add(new FileStateStore(data).load().orElseThrow().desired().revision());
            } catch (Exception e) {
              revisionOnDiskAtAck.add(-1L);
            }
          }
          received.add(request);
        }

        @Override
        public void onError(Throwable t) { }

        @Override
        public void onCompleted() {
          responses.onCompleted();
        }
      };
    }

    void send(long revision, long generation) {
      toLauncher.onNext(SyncResponse.newBuilder().setDesired(DesiredState.newBuilder()
          .setHostName("web-1").setRevision(revision)
          .addAgents(DesiredAgent.newBuilder().setDeployment("web").setPayload(V1.toProto())
              .setGeneration(generation))).build());
    }

    SyncRequest next(SyncRequest.MessageCase kind) throws InterruptedException {
      while (true) {
        SyncRequest request = received.poll(10, TimeUnit.SECONDS);
        if (request == null) {
          throw new AssertionError("no " + kind + " within 10 s");
        }
        if (request.getMessageCase() == kind) {
          return request;
        }
      }
    }
  }

  /** Stands in for the control plane's authorization: while {@code refuse}, every call is denied. */
  static final class Refuser implements ServerInterceptor {
    final AtomicInteger calls = new AtomicInteger();
    volatile boolean refuse;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      calls.incrementAndGet();
      if (refuse) {
        call.close(Status.PERMISSION_DENIED.withDescription("its certificate is revoked"),
            new Metadata());
        return new ServerCall.Listener<>() {};
      }
      return next.startCall(call, headers);
    }
  }

  final Refuser refuser = new Refuser();
  CertificateAuthority ca;
  X509Certificate serverCert;
  KeyPair serverKeys = KeyPairs.ecP256();
  Server server;
  FakeControlPlane controlPlane;
  ManagedChannel channel;
  io.netty.handler.ssl.SslContext hostTls;
  ScheduledExecutorService syncScheduler;
  ScheduledExecutorService reconcilerScheduler;
  Reconciler reconciler;
  SyncClient client;
  TestAgents agents;

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
    hostTls = TlsContexts.client(List.of(ca.certificate()), List.of(hostCert),
        hostKeys.getPrivate());
    channel = ControlPlaneChannels.build(
        new ControlPlaneChannels.Target("127.0.0.1", server.getPort()), hostTls,
        ControlPlaneChannels.Settings.DEFAULTS);

    agents = new TestAgents(data);
    reconcilerScheduler = TestAgents.scheduler();
    syncScheduler = TestAgents.scheduler();
    reconciler = agents.reconciler(agents.agent("exec sleep 1000"), new FileStateStore(data),
        CrashBudget.defaults(), PayloadPrefetcher.AGENT_FETCHES, reconcilerScheduler);
    reconciler.start();
    client = new SyncClient(new SyncClient.Settings("web-1", "test", Duration.ofMillis(300)),
        channel, reconciler,
        ReconnectLoop.Settings.of(Duration.ofMillis(50), Duration.ofMillis(200)),
        new SplittableRandom(1),
        Clock.systemUTC(), syncScheduler, agents.log);
  }

  private void startServer(int port) throws Exception {
    controlPlane = new FakeControlPlane();
    server = startReplica(controlPlane, port);
  }

  private Server startReplica(FakeControlPlane plane, int port) throws Exception {
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .sslContext(TlsContexts.server(List.of(serverCert), serverKeys.getPrivate(),
            List.of(ca.certificate()), ClientAuth.REQUIRE))
        .permitKeepAliveTime(1, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .addService(ServerInterceptors.intercept(plane, refuser))
        .build()
        .start();
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    syncScheduler.shutdown();
    syncScheduler.awaitTermination(2, TimeUnit.SECONDS);
    reconciler.close(false); // starts nothing any more
    reconcilerScheduler.shutdownNow();
    channel.shutdownNow();
    server.shutdownNow();
    TestAgents.killAll(reconciler.state());
  }

  /** Hello names the held revision; a new desired state is on disk before its ack is sent. */
  @Test
  void persistsDesiredStateBeforeAckThenRunsIt() throws Exception {
    client.start();
    SyncRequest hello = controlPlane.next(SyncRequest.MessageCase.HELLO);
    assertEquals("web-1", hello.getHello().getHostName());
    assertEquals(0, hello.getHello().getHeldRevision());
    controlPlane.next(SyncRequest.MessageCase.REPORT);

    controlPlane.send(3, 1);

    assertEquals(3, controlPlane.next(SyncRequest.MessageCase.ACK).getAck().getRevision());
    assertEquals(3L, controlPlane.revisionOnDiskAtAck.poll(5, TimeUnit.SECONDS));
    TestAgents.await("a report with the running agent", () -> controlPlane.received.stream()
        .anyMatch(r -> r.hasReport() && r.getReport().getDesiredRevision() == 3
            && r.getReport().getAgentsCount() == 1 && r.getReport().getAgents(0).getPid() > 0));
    TestAgents.await("start line", () -> {
      try {
        return agents.startLines().size() >= 1;
      } catch (java.io.IOException e) {
        return false;
      }
    });
    Thread.sleep(100);
    assertEquals(1, agents.startLines().size());
  }

  /** An older or equal revision is neither acked nor acted on. */
  @Test
  void ignoresOlderRevision() throws Exception {
    client.start();
    controlPlane.next(SyncRequest.MessageCase.HELLO);
    controlPlane.send(5, 1);
    assertEquals(5, controlPlane.next(SyncRequest.MessageCase.ACK).getAck().getRevision());
    TestAgents.await("agent started", () -> reconciler.state().agents().containsKey("web"));

    controlPlane.send(4, 7);
    controlPlane.send(5, 7);
    Thread.sleep(400);

    assertTrue(controlPlane.received.stream().noneMatch(SyncRequest::hasAck));
    assertEquals(5, reconciler.heldRevision());
    assertEquals(1, reconciler.state().agents().get("web").generation());
    assertTrue(agents.logText().contains("action=desired_ignored revision=4 held_revision=5"),
        agents.logText());
  }

  /**
   * The control plane goes away and comes back on the same port: the launcher reconnects, says
   * it holds revision 2, reports how long it was detached, and restarts nothing.
   */
  @Test
  void reconnectsAfterServerRestartWithoutRestartingAgents() throws Exception {
    client.start();
    controlPlane.next(SyncRequest.MessageCase.HELLO);
    controlPlane.send(2, 1);
    controlPlane.next(SyncRequest.MessageCase.ACK);
    TestAgents.await("agent started", () -> reconciler.state().agents().containsKey("web"));
    int port = server.getPort();

    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    Thread.sleep(300); // detached for a while; the reconciler keeps going on its own
    reconciler.reconcile();
    startServer(port);

    SyncRequest hello = controlPlane.next(SyncRequest.MessageCase.HELLO);
    assertEquals(2, hello.getHello().getHeldRevision());
    SyncRequest report = controlPlane.next(SyncRequest.MessageCase.REPORT);
    assertTrue(report.getReport().hasDetachedSince());
    long detachedMillis = report.getReport().getDetachedFor().getSeconds() * 1000
        + report.getReport().getDetachedFor().getNanos() / 1_000_000;
    assertTrue(detachedMillis >= 250, "detached_for " + detachedMillis + " ms");
    // Only the first report after the reconnect carries it: the control plane shows the host
    // as DETACHED ("catching up") while reports carry it, ONLINE afterwards.
    SyncRequest next = controlPlane.next(SyncRequest.MessageCase.REPORT);
    assertFalse(next.getReport().hasDetachedSince(), next.toString());
    assertFalse(next.getReport().hasDetachedFor(), next.toString());
    controlPlane.send(2, 1); // same revision again after reconnect: ignored
    Thread.sleep(200);
    assertEquals(1, agents.startLines().size());
    assertTrue(agents.logText().contains("action=sync_lost"), agents.logText());
    // Logged when the control plane accepted the stream, after the first report went out.
    assertTrue(agents.logText().matches("(?s).*action=sync_connected held_revision=2"
        + " detached_for=PT.*"), agents.logText());
  }

  /**
   * Given two replicas, the launcher lands on the first; when that one dies its Sync stream
   * reopens on the other (through the same reconnect backoff), says it holds revision 2, reports
   * the detachment, restarts no agent, and logs the switch once.
   */
  @Test
  void movesToAnotherReplicaWhenTheOneItIsConnectedToDies() throws Exception {
    client.close();
    channel.shutdownNow();
    FakeControlPlane other = new FakeControlPlane();
    Server otherServer = startReplica(other, 0);
    int first = server.getPort();
    int second = otherServer.getPort();
    ControlPlaneChannel replicas = ControlPlaneChannels.build(
        ControlPlaneEndpoints.parse("127.0.0.1:" + first + ",127.0.0.1:" + second), hostTls,
        ControlPlaneChannels.Settings.DEFAULTS);
    replicas.addSwitchListener(new ControlPlaneSwitchLog(agents.log));
    LauncherMetrics metrics = new LauncherMetrics(data, Clock.systemUTC());
    metrics.watchControlPlane(replicas);
    channel = replicas;
    client = new SyncClient(new SyncClient.Settings("web-1", "test", Duration.ofMillis(300)),
        replicas, reconciler, ReconnectLoop.Settings.of(Duration.ofMillis(50),
            Duration.ofMillis(200)), new SplittableRandom(1), Clock.systemUTC(), syncScheduler,
        agents.log);
    try {
      client.start();
      controlPlane.next(SyncRequest.MessageCase.HELLO);
      controlPlane.send(2, 1);
      controlPlane.next(SyncRequest.MessageCase.ACK);
      TestAgents.await("agent started", () -> reconciler.state().agents().containsKey("web"));

      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);

      SyncRequest hello = other.next(SyncRequest.MessageCase.HELLO);
      assertEquals(2, hello.getHello().getHeldRevision());
      assertTrue(other.next(SyncRequest.MessageCase.REPORT).getReport().hasDetachedSince());
      other.send(2, 1); // the same revision from the other replica: nothing to do
      Thread.sleep(200);
      assertEquals(1, agents.startLines().size());
      String log = agents.logText();
      assertTrue(log.contains("connected to control plane 127.0.0.1:" + first + "\""), log);
      assertTrue(log.contains("connected to control plane 127.0.0.1:" + second
          + " (was 127.0.0.1:" + first + ")"), log);
      assertTrue(log.contains("action=sync_connected held_revision=2"), log);
      assertTrue(log.matches("(?s).*action=sync_connected held_revision=2 detached_for=PT\\S+"
          + " control_plane=127\\.0\\.0\\.1:" + second + ".*"), log);
      String scraped = metrics.scrape();
      assertTrue(scraped.contains("infraveil_launcher_control_plane_answering{endpoint=\"127.0.0.1:"
          + second + "\"} 1.0"), scraped);
      assertTrue(scraped.contains("infraveil_launcher_control_plane_answering{endpoint=\"127.0.0.1:"
          + first + "\"} 0.0"), scraped);
    } finally {
      otherServer.shutdownNow();
    }
  }

  /**
   * A control plane that refuses the host's identity (as it refuses a revoked certificate) is
   * asked only a few times, although the TLS channel becomes ready on every attempt: the
   * backoff climbs the refusal ladder instead of resetting at "ready". The agents keep running,
   * each level is logged once, and the first accepted stream afterwards restarts the ladder.
   */
  @Test
  void refusedIdentityBacksOffPastTheUsualCapWhileAgentsKeepRunning() throws Exception {
    client.close();
    client = new SyncClient(new SyncClient.Settings("web-1", "test", Duration.ofMillis(300)),
        channel, reconciler, new ReconnectLoop.Settings(Duration.ofMillis(50),
            Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofMillis(1600)),
        new SplittableRandom(1), Clock.systemUTC(), syncScheduler, agents.log);
    client.start();
    controlPlane.next(SyncRequest.MessageCase.HELLO);
    controlPlane.send(2, 1);
    controlPlane.next(SyncRequest.MessageCase.ACK);
    TestAgents.await("agent started", () -> reconciler.state().agents().containsKey("web"));
    long agentPid = reconciler.state().agents().get("web").process().pid();

    refuser.refuse = true;
    refuser.calls.set(0);
    controlPlane.toLauncher.onError(Status.PERMISSION_DENIED
        .withDescription("host web-1 was revoked").asRuntimeException()); // as revocation does
    Thread.sleep(2000);
    int attempts = refuser.calls.get();
    // Refusal ladder 400 ms .. 1.6 s, never below half a level: at most 3 attempts in 2 s. The
    // usual ladder (50 .. 200 ms), reset whenever the channel is ready, makes 10 or more.
    assertTrue(attempts >= 1 && attempts <= 3, "attempts in 2 s while refused: " + attempts);
    String log = agents.logText();
    int refusedLines = log.split("action=sync_refused", -1).length - 1;
    assertTrue(refusedLines >= 1 && refusedLines <= attempts + 1,
        "one sync_refused line per level: " + refusedLines + " for " + attempts + " refusals\n"
            + log);
    assertTrue(log.contains("agents=\"kept running on desired revision 2\""), log);
    assertTrue(ProcessHandle.of(agentPid).map(ProcessHandle::isAlive).orElse(false),
        "the agent keeps running while the host is refused");
    assertEquals(1, agents.startLines().size(), "nothing restarted");

    refuser.refuse = false;
    int connectedBefore = log.split("action=sync_connected", -1).length - 1;
    TestAgents.await("accepted again", () ->
        agents.logText().split("action=sync_connected", -1).length - 1 > connectedBefore);
    controlPlane.next(SyncRequest.MessageCase.HELLO);
  }
}
