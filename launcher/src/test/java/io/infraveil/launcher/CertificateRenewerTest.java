package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyMatch;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import io.infraveil.certs.TlsContexts;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.host.grpc.HostIdentityFiles;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.RenewRequest;
import io.infraveil.proto.v1.RenewResponse;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Host certificates are renewed over mutual TLS before they expire, and used at once. */
class CertificateRenewerTest {

  @TempDir Path data;

  @Test
  void renewsOnceTwoThirdsOfTheLifetimeHavePassed() {
    Instant start = Instant.parse("2026-01-01T00:00:00Z");
    Instant end = start.plus(Duration.ofDays(3));
    var early = CertificateRenewer.decide(start, end, start.plus(Duration.ofDays(1)));
    assertEquals(CertificateRenewer.Action.WAIT, early.action());
    assertEquals(Duration.ofDays(1), early.delay());
    var due = CertificateRenewer.decide(start, end, start.plus(Duration.ofDays(2)));
    assertEquals(CertificateRenewer.Action.RENEW, due.action());
    assertEquals(CertificateRenewer.Reason.TWO_THIRDS_OF_LIFETIME_PASSED, due.reason());
    var justBefore = CertificateRenewer.decide(start, end, start.plus(Duration.ofDays(2)).minusMillis(1));
    assertEquals(CertificateRenewer.Action.WAIT, justBefore.action());
  }

  /**
   * Renewal over the existing channel writes a new key and certificate; after the control plane
   * restarts, the same channel reconnects presenting the renewed certificate.
   */
  @Test
  void renewedCertificateIsPresentedByTheSameChannelAtItsNextHandshake() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    Identity host = Identity.host("test.infraveil", "web-1");
    KeyPair first = KeyPairs.ecP256();
    X509Certificate original = ca.issue(first.getPublic(), host, Duration.ofHours(1), List.of());
    HostIdentityFiles identity = HostIdentityFiles.inDataDir(data);
    identity.writeKey(first.getPrivate());
    identity.writeCertificates(Pem.encode(original), Pem.encode(ca.certificate()));

    List<String> presentedSerials = new CopyOnWriteArrayList<>();
    Server server = startServer(ca, 0, presentedSerials);
    int port = server.getPort();
    ManagedChannel channel = ControlPlaneChannels.mutualTls("127.0.0.1:" + port, identity,
        ControlPlaneChannels.Settings.DEFAULTS);
    var scheduler = Executors.newSingleThreadScheduledExecutor();
    try {
      TestAgents agents = new TestAgents(data);
      CertificateRenewer renewer = new CertificateRenewer(identity, channel, Clock.systemUTC(), scheduler,
          agents.log, Duration.ofHours(1));
      X509Certificate renewed = renewer.renewNow();

      assertNotEquals(original.getSerialNumber(), renewed.getSerialNumber());
      assertEquals(renewed, Pem.readCertificate(identity.certificateFile()));
      assertTrue(KeyMatch.matches(identity.readKey(), renewed), "the new key must belong to the new certificate");
      assertEquals(List.of(original.getSerialNumber().toString(16)), presentedSerials,
          "the renewal itself travels over the existing mutual-TLS connection");

      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      Thread.sleep(1_100); // the key manager looks at the files at most once a second
      server = startServer(ca, port, presentedSerials);
      renewCall(channel);
      assertEquals(renewed.getSerialNumber().toString(16), presentedSerials.get(presentedSerials.size() - 1));
    } finally {
      scheduler.shutdownNow();
      channel.shutdownNow();
      server.shutdownNow();
    }
  }

  private static void renewCall(ManagedChannel channel) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        EnrollmentServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
            .renew(RenewRequest.newBuilder().setCsrPem(io.infraveil.certs.Csrs.createPem(KeyPairs.ecP256(), "x")).build());
        return;
      } catch (RuntimeException reconnecting) {
        if (System.nanoTime() > deadline) {
          throw reconnecting;
        }
      }
    }
  }

  private static Server startServer(CertificateAuthority ca, int port, List<String> presentedSerials)
      throws Exception {
    KeyPair serverKeys = KeyPairs.ecP256();
    var serverCert = ca.issue(serverKeys.getPublic(),
        new Identity("test.infraveil", Identity.Kind.CONTROL_PLANE, "cp"), Duration.ofHours(1),
        List.of("127.0.0.1"));
    ServerInterceptor recordPeer = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        try {
          var leaf = (X509Certificate) call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)
              .getPeerCertificates()[0];
          presentedSerials.add(leaf.getSerialNumber().toString(16));
        } catch (SSLPeerUnverifiedException e) {
          presentedSerials.add("none");
        }
        return next.startCall(call, headers);
      }
    };
    var service = new EnrollmentServiceGrpc.EnrollmentServiceImplBase() {
      @Override
      public void renew(RenewRequest request, StreamObserver<RenewResponse> out) {
        var cert = ca.signCsr(Pem.csr(request.getCsrPem()), Identity.host("test.infraveil", "web-1"),
            Duration.ofHours(3));
        out.onNext(RenewResponse.newBuilder().setCertificatePem(Pem.encode(cert))
            .setCaBundlePem(Pem.encode(ca.certificate())).build());
        out.onCompleted();
      }
    };
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .sslContext(TlsContexts.server(List.of(serverCert), serverKeys.getPrivate(), List.of(ca.certificate()),
            ClientAuth.REQUIRE))
        .addService(ServerInterceptors.intercept(service, recordPeer))
        .build().start();
  }
}
