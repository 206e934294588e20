package io.infraveil.host.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.TlsContexts;
import io.infraveil.host.grpc.ControlPlaneChannels.Target;
import io.netty.handler.ssl.SslContext;
import java.net.InetAddress;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One channel over several control-plane replicas, against real gRPC servers with real mutual
 * TLS on loopback: a dead endpoint is skipped, a killed replica's streams land on another, each
 * replica's certificate is checked against its own name, and the host presents one identity
 * to all of them.
 */
class ControlPlaneFailoverTest {

  CertificateAuthority ca;
  SslContext hostTls;
  String hostSubject;
  final List<AutoCloseable> closing = new ArrayList<>();
  ScheduledExecutorService scheduler;

  @BeforeEach
  void setUp() throws Exception {
    ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    KeyPair hostKeys = KeyPairs.ecP256();
    X509Certificate hostCert = ca.issue(hostKeys.getPublic(),
        Identity.host("test.infraveil", "web-1"), Duration.ofHours(1), List.of());
    hostSubject = hostCert.getSubjectX500Principal().getName();
    hostTls = TlsContexts.client(List.of(ca.certificate()), List.of(hostCert),
        hostKeys.getPrivate());
    scheduler = Executors.newSingleThreadScheduledExecutor();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
    scheduler.shutdownNow();
  }

  private TestReplica replica(String name, String bindHost, int port, String... sans)
      throws Exception {
    TestReplica replica = new TestReplica(name, ca, bindHost, port, List.of(sans));
    closing.add(replica);
    return replica;
  }

  private ControlPlaneChannel channel(String endpoints) {
    ControlPlaneChannel channel = ControlPlaneChannels.build(ControlPlaneEndpoints.parse(endpoints),
        hostTls, ControlPlaneChannels.Settings.DEFAULTS);
    closing.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return channel;
  }

  private static String who(ControlPlaneChannel channel) {
    return ClientCalls.blockingUnaryCall(channel, TestReplica.WHO,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "?");
  }

  @Test
  void deadFirstEndpointFallsThroughToTheLiveOne() throws Exception {
    TestReplica live = replica("b", "127.0.0.1", 0, "127.0.0.1");
    int dead = TestReplica.closedPort();
    ControlPlaneChannel channel = channel("127.0.0.1:" + dead + ",127.0.0.1:" + live.port());

    assertEquals("b|" + hostSubject, who(channel));
    assertEquals(new Target("127.0.0.1", live.port()), channel.answering().orElseThrow());
  }

  @Test
  void anIpv6EndpointInBracketsIsReachedAndCheckedByItsAddress() throws Exception {
    TestReplica live;
    try {
      live = replica("v6", "::1", 0, "::1");
    } catch (java.io.IOException noIpv6) {
      org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback here: " + noIpv6.getMessage());
      return;
    }
    ControlPlaneChannel channel = channel("127.0.0.1:" + TestReplica.closedPort() + ",[::1]:"
        + live.port());

    assertEquals("v6|" + hostSubject, who(channel));
    assertEquals("[::1]:" + live.port(), channel.answering().orElseThrow().toString());
  }

  /**
   * Replica a's certificate names only "localhost" and b's only "127.0.0.1", so b is reached only
   * if its handshake is checked against its own endpoint: one authority for the whole channel
   * would refuse it.
   */
  @Test
  void killingTheAnsweringReplicaMovesTheStreamToTheOtherWithinBoundedTime() throws Exception {
    TestReplica a = replica("a", "127.0.0.1", 0, "localhost");
    TestReplica b = replica("b", "127.0.0.1", 0, "127.0.0.1");
    ControlPlaneChannel channel = channel("localhost:" + a.port() + ",127.0.0.1:" + b.port());
    BlockingQueue<String> switches = new LinkedBlockingQueue<>();
    channel.addSwitchListener((now, was) ->
        switches.add(now + " was " + was.map(Target::toString).orElse("none")));
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    ReconnectLoop[] loop = new ReconnectLoop[1];
    Runnable open = () -> {
      ClientCall<String, String> call = channel.newCall(TestReplica.WATCH, CallOptions.DEFAULT);
      ClientCalls.asyncServerStreamingCall(call, "watch", new StreamObserver<>() {
        @Override
        public void onNext(String replica) {
          loop[0].accepted();
          received.add(replica);
        }

        @Override
        public void onError(Throwable t) {
          loop[0].lost(t);
        }

        @Override
        public void onCompleted() {
          loop[0].lost(Status.UNAVAILABLE.asRuntimeException());
        }
      });
    };
    loop[0] = new ReconnectLoop("Watch", channel,
        ReconnectLoop.Settings.of(Duration.ofMillis(100), Duration.ofMillis(500)),
        new SplittableRandom(7), scheduler, open);
    scheduler.execute(open);

    assertEquals("a", received.poll(10, TimeUnit.SECONDS));
    assertEquals("localhost:" + a.port() + " was none", switches.poll(5, TimeUnit.SECONDS));
    assertEquals("a|" + hostSubject, who(channel));

    long killedAt = System.nanoTime();
    a.kill();
    String next = received.poll(10, TimeUnit.SECONDS);
    long movedMillis = (System.nanoTime() - killedAt) / 1_000_000;

    assertEquals("b", next, "the stream must reopen on the other replica within 10 s");
    assertEquals("127.0.0.1:" + b.port() + " was localhost:" + a.port(),
        switches.poll(5, TimeUnit.SECONDS));
    assertEquals("b|" + hostSubject, who(channel), "the same host identity on every replica");
    System.out.println("failover: stream on the other replica " + movedMillis
        + " ms after the kill (reconnect backoff 100 ms .. 500 ms)");
  }

  @Test
  void aReplicaWhoseCertificateDoesNotNameItsEndpointIsRefused() throws Exception {
    TestReplica wrongName = replica("b", "127.0.0.1", 0, "replica-b.example");
    ControlPlaneChannel channel = channel("127.0.0.1:" + wrongName.port());

    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> who(channel));
    assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
    assertTrue(channel.answering().isEmpty());
  }

  /** One name, two addresses: the first refuses connections, the second answers. */
  @Test
  void aNameWithSeveralAddressesMakesEachACandidate() throws Exception {
    TestReplica live = replica("b", "127.0.0.1", 0, "replicas.example");
    ControlPlaneChannel channel = ControlPlaneChannels.build(
        ControlPlaneEndpoints.parse("replicas.example:" + live.port()), hostTls,
        ControlPlaneChannels.Settings.DEFAULTS, host -> {
          assertEquals("replicas.example", host);
          return new InetAddress[] {InetAddress.getByName("127.0.0.2"),
              InetAddress.getByName("127.0.0.1")};
        });
    closing.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));

    assertEquals("b|" + hostSubject, who(channel));
    assertEquals(new Target("replicas.example", live.port()), channel.answering().orElseThrow());
  }

  @Test
  void noEndpointResolvingFailsTheCallNamingTheList() {
    ControlPlaneChannel channel = ControlPlaneChannels.build(
        ControlPlaneEndpoints.parse("a.invalid:7443,b.invalid:7443"), hostTls,
        ControlPlaneChannels.Settings.DEFAULTS, host -> {
          throw new java.net.UnknownHostException(host + ": no such name");
        });
    closing.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));

    StatusRuntimeException failed = assertThrows(StatusRuntimeException.class,
        () -> who(channel));
    assertEquals(Status.Code.UNAVAILABLE, failed.getStatus().getCode());
    assertTrue(failed.getStatus().getDescription().contains("a.invalid:7443,b.invalid:7443"),
        failed.getStatus().getDescription());
  }
}
