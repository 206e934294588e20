package io.infraveil.launcher;

import static io.infraveil.launcher.TestAgents.V1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.TlsContexts;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.host.time.Backoff;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
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

    @Override
    public StreamObserver<SyncRequest> sync(StreamObserver<SyncResponse> responses) {
      toLauncher = responses;
      return new StreamObserver<>() {
        @Override
        public void onNext(SyncRequest request) {
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

  CertificateAuthority ca;
  X509Certificate serverCert;
  KeyPair serverKeys = KeyPairs.ecP256();
  Server server;
  FakeControlPlane controlPlane;
  ManagedChannel channel;
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
    channel = ControlPlaneChannels.build(
        new ControlPlaneChannels.Target("127.0.0.1", server.getPort()),
        TlsContexts.client(List.of(ca.certificate()), List.of(hostCert), hostKeys.getPrivate()),
        ControlPlaneChannels.Settings.DEFAULTS);

    agents = new TestAgents(data);
    reconcilerScheduler = TestAgents.scheduler();
    syncScheduler = TestAgents.scheduler();
    reconciler = agents.reconciler(agents.agent("exec sleep 1000"), new FileStateStore(data),
        CrashBudget.defaults(), PayloadPrefetcher.AGENT_FETCHES, reconcilerScheduler);
    reconciler.start();
    client = new SyncClient(new SyncClient.Settings("web-1", "test", Duration.ofMillis(300)),
        channel, reconciler,
        new Backoff(Duration.ofMillis(50), Duration.ofMillis(200), true, new SplittableRandom(1)),
        Clock.systemUTC(), syncScheduler, agents.log);
  }

  private void startServer(int port) throws Exception {
    controlPlane = new FakeControlPlane();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .sslContext(TlsContexts.server(List.of(serverCert), serverKeys.getPrivate(),
            List.of(ca.certificate()), ClientAuth.REQUIRE))
        .permitKeepAliveTime(1, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .addService(controlPlane)
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
  }
}
