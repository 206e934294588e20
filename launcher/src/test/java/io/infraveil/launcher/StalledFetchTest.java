package io.infraveil.launcher;

import static io.infraveil.launcher.TestAgents.V1;
import static io.infraveil.launcher.TestAgents.V2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import io.infraveil.host.payload.CacheLayout;
import io.infraveil.host.payload.PayloadCache;
import io.infraveil.host.process.ProcessGroups;
import io.infraveil.host.process.ProcessIdentity;
import io.infraveil.host.grpc.ReconnectLoop;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.proto.v1.AgentStatus;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.FetchRequest;
import io.infraveil.proto.v1.FetchResponse;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
import io.infraveil.proto.v1.PayloadServiceGrpc;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.SyncResponse;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A download that stalls must not stall the host. The control plane stand-in (real Netty, real
 * mutual TLS) answers Sync but never sends a byte of deployment "slow"'s payload, so the
 * launcher's real payload cache waits on that Fetch (its deadline is 10 minutes). Meanwhile
 * deployment "fast"'s agent (a real process) is killed: it must be respawned at once, and the
 * Sync stream must keep carrying reports (the host stays online) and accepting desired states.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StalledFetchTest {

  @TempDir Path data;

  /** Sync: records every request. Payloads: holds every Fetch open without answering. */
  static final class StalledControlPlane {
    final LinkedBlockingQueue<SyncRequest> received = new LinkedBlockingQueue<>();
    final CountDownLatch fetchStarted = new CountDownLatch(1);
    volatile StreamObserver<SyncResponse> toLauncher;
    volatile StreamObserver<FetchResponse> stalledFetch;

    final LauncherSyncServiceGrpc.LauncherSyncServiceImplBase sync =
        new LauncherSyncServiceGrpc.LauncherSyncServiceImplBase() {
          @Override
          public StreamObserver<SyncRequest> sync(StreamObserver<SyncResponse> responses) {
            toLauncher = responses;
            return new StreamObserver<>() {
              @Override
              public void onNext(SyncRequest request) {
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
        };

    final PayloadServiceGrpc.PayloadServiceImplBase payloads =
        new PayloadServiceGrpc.PayloadServiceImplBase() {
          @Override
          public void fetch(FetchRequest request, StreamObserver<FetchResponse> responses) {
            stalledFetch = responses; // never answered: a download that stalls
            fetchStarted.countDown();
          }
        };

    void send(long revision, DesiredAgent... agents) {
      toLauncher.onNext(SyncResponse.newBuilder().setDesired(DesiredState.newBuilder()
          .setHostName("web-1").setRevision(revision).addAllAgents(List.of(agents))).build());
    }

    long reportsSince(int index) {
      return List.copyOf(received).stream().skip(index).filter(SyncRequest::hasReport).count();
    }
  }

  Server server;
  ManagedChannel channel;
  ScheduledExecutorService scheduler;
  Reconciler reconciler;
  SyncClient client;

  @AfterEach
  void tearDown() {
    if (client != null) {
      client.close();
    }
    if (reconciler != null) {
      reconciler.close(false);
      TestAgents.killAll(reconciler.state());
    }
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  private static DesiredAgent agent(String deployment, PayloadId payload) {
    return DesiredAgent.newBuilder().setDeployment(deployment).setPayload(payload.toProto())
        .setGeneration(1).build();
  }

  @Test
  void crashOfOneDeploymentIsHandledWhileAnotherOnesFetchStalls() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    KeyPair serverKeys = KeyPairs.ecP256();
    X509Certificate serverCert = ca.issue(serverKeys.getPublic(),
        new Identity("test.infraveil", Identity.Kind.CONTROL_PLANE, "cp"), Duration.ofHours(1),
        List.of("127.0.0.1"));
    StalledControlPlane controlPlane = new StalledControlPlane();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .sslContext(TlsContexts.server(List.of(serverCert), serverKeys.getPrivate(),
            List.of(ca.certificate()), ClientAuth.REQUIRE))
        .addService(controlPlane.sync)
        .addService(controlPlane.payloads)
        .build()
        .start();
    KeyPair hostKeys = KeyPairs.ecP256();
    X509Certificate hostCert = ca.issue(hostKeys.getPublic(),
        Identity.host("test.infraveil", "web-1"), Duration.ofHours(1), List.of());
    channel = ControlPlaneChannels.build(
        new ControlPlaneChannels.Target("127.0.0.1", server.getPort()),
        TlsContexts.client(List.of(ca.certificate()), List.of(hostCert), hostKeys.getPrivate()),
        ControlPlaneChannels.Settings.DEFAULTS);
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    TestAgents agents = new TestAgents(data);
    CachePrefetcher realCache = new CachePrefetcher(PayloadCache.forHost(new CacheLayout(data),
        channel, HostKeys.fromSecret(secret)), Clock.systemUTC(), agents.log);
    // "slow" goes through the real cache and its real, stalled Fetch; "fast" is left to its
    // agent, so that its respawn depends on nothing but the launcher's own threads.
    PayloadPrefetcher prefetcher = (deployment, payload) -> deployment.equals("slow")
        ? realCache.ensureCached(deployment, payload) : PayloadPrefetcher.PrefetchResult.ok();

    scheduler = TestAgents.scheduler(); // one thread for reconcile ticks and Sync, as in main
    reconciler = agents.reconciler(agents.agent("exec sleep 1000"), new FileStateStore(data),
        CrashBudget.defaults(), prefetcher, scheduler);
    reconciler.start();
    client = new SyncClient(new SyncClient.Settings("web-1", "test", Duration.ofMillis(200)),
        channel, reconciler,
        ReconnectLoop.Settings.of(Duration.ofMillis(50), Duration.ofMillis(200)),
        new SplittableRandom(1), Clock.systemUTC(), scheduler, agents.log);
    client.start();
    TestAgents.await("connected", () -> controlPlane.toLauncher != null);

    controlPlane.send(1, agent("fast", V1));
    TestAgents.await("fast's agent runs", () -> running(reconciler, "fast"));
    ProcessIdentity first = reconciler.state().agents().get("fast").process();

    controlPlane.send(2, agent("fast", V1), agent("slow", V2));
    assertTrue(controlPlane.fetchStarted.await(10, TimeUnit.SECONDS), "slow's fetch started");

    int mark = controlPlane.received.size();
    ProcessGroups.signal(first.pid(), "KILL");
    long killed = System.nanoTime();
    TestAgents.await("fast's agent respawned", () -> running(reconciler, "fast")
        && !first.equals(reconciler.state().agents().get("fast").process()));
    long respawnMillis = (System.nanoTime() - killed) / 1_000_000;
    System.out.println("timing: agent killed -> respawned while another fetch stalls: "
        + respawnMillis + " ms");
    ProcessIdentity second = reconciler.state().agents().get("fast").process();
    assertNotEquals(first.pid(), second.pid());
    assertFalse(first.isAlive());
    assertEquals("CRASH_WITHIN_BUDGET", reconciler.state().agents().get("fast").lastReason());
    assertTrue(respawnMillis < 5000, "respawned after " + respawnMillis + " ms");

    // The host stays online: reports keep coming (every 200 ms) and name the new agent, and a
    // newer desired state is still persisted and acked, all while slow's fetch hangs.
    TestAgents.await("a report naming the respawned agent", () -> List.copyOf(
        controlPlane.received).stream().skip(mark).filter(SyncRequest::hasReport)
        .flatMap(r -> r.getReport().getAgentsList().stream())
        .anyMatch(a -> a.getDeployment().equals("fast") && a.getPid() == second.pid()));
    int before = controlPlane.received.size();
    Thread.sleep(1000);
    assertTrue(controlPlane.reportsSince(before) >= 3,
        "reports in 1 s while a fetch stalls: " + controlPlane.reportsSince(before));
    controlPlane.send(3, agent("fast", V1), agent("slow", V2));
    TestAgents.await("revision 3 acked", () -> List.copyOf(controlPlane.received).stream()
        .anyMatch(r -> r.hasAck() && r.getAck().getRevision() == 3));

    assertTrue(controlPlane.stalledFetch != null, "the fetch is still open, unanswered");
    assertFalse(reconciler.awaitIdle(Duration.ofMillis(1)), "slow's worker still waits");
    AgentStatus slow = reconciler.statuses().stream()
        .filter(s -> s.getDeployment().equals("slow")).findFirst().orElse(null);
    assertNull(slow, "no record (and no agent) for slow before its payload is cached");
  }

  private static boolean running(Reconciler reconciler, String deployment) {
    AgentRecord record = reconciler.state().agents().get(deployment);
    return record != null && record.process() != null && record.process().isAlive();
  }
}
