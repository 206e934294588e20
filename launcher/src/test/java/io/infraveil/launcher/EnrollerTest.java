package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import io.infraveil.certs.TlsContexts;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.host.grpc.HostIdentityFiles;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollResponse;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Enrollment over real TLS (server-only authentication) against an in-test service. */
class EnrollerTest {

  @TempDir Path data;

  @Test
  void enrollsWithCsrAndStoresIdentityWithoutLoggingSecrets() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    KeyPair serverKeys = KeyPairs.ecP256();
    var serverCert = ca.issue(serverKeys.getPublic(),
        new Identity("test.infraveil", Identity.Kind.CONTROL_PLANE, "cp"), Duration.ofHours(1),
        List.of("127.0.0.1"));
    byte[] secret = new byte[32];
    for (int i = 0; i < 32; i++) {
      secret[i] = (byte) (0xA0 + i);
    }
    Path hostKeyAtEnroll = data.resolve("identity/host.key");
    boolean[] keyWrittenBeforeCall = new boolean[1];
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .sslContext(TlsContexts.server(List.of(serverCert), serverKeys.getPrivate(),
            List.of(ca.certificate()), ClientAuth.OPTIONAL))
        .addService(new EnrollmentServiceGrpc.EnrollmentServiceImplBase() {
          @Override
          public void enroll(EnrollRequest request, StreamObserver<EnrollResponse> out) {
            keyWrittenBeforeCall[0] = Files.exists(hostKeyAtEnroll)
                && request.getJoinToken().equals("tok-SECRET-123");
            var cert = ca.signCsr(Pem.csr(request.getCsrPem()),
                Identity.host("test.infraveil", request.getHostName()), Duration.ofHours(1));
            out.onNext(EnrollResponse.newBuilder().setCertificatePem(Pem.encode(cert))
                .setCaBundlePem(Pem.encode(ca.certificate()))
                .setIdentity("spiffe://test.infraveil/host/" + request.getHostName())
                .setHostSecret(ByteString.copyFrom(secret)).build());
            out.onCompleted();
          }
        }).build().start();
    Path caFile = data.resolve("bootstrap-ca.crt");
    Pem.writePublic(caFile, Pem.encode(ca.certificate()));
    ManagedChannel channel = ControlPlaneChannels.anonymous("127.0.0.1:" + server.getPort(),
        caFile, ControlPlaneChannels.Settings.DEFAULTS);
    TestAgents agents = new TestAgents(data);
    HostIdentityFiles files = HostIdentityFiles.inDataDir(data);
    Enroller enroller = new Enroller(files, agents.log);
    try {
      assertFalse(enroller.isEnrolled());
      var info = enroller.enroll(EnrollmentServiceGrpc.newBlockingStub(channel), "tok-SECRET-123",
          "web-1", "127.0.0.1:" + server.getPort());

      assertTrue(keyWrittenBeforeCall[0]);
      assertTrue(enroller.isEnrolled());
      assertEquals(new HostIdentityFiles.HostInfo("web-1", "127.0.0.1:" + server.getPort(),
          "test.infraveil"), info);
      assertEquals(info, files.readHostInfo().orElseThrow());
      assertArrayEquals(secret, files.readSecret());
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.keyFile())));
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.secretFile())));
      String logged = agents.logText();
      assertTrue(logged.contains("action=enrolled name=web-1"), logged);
      assertFalse(logged.contains("tok-SECRET-123"), logged);
      assertFalse(logged.contains(HexFormat.of().formatHex(secret)), logged);
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }

  /**
   * Enrolling with a list: the first replica refuses connections, the second enrolls the host,
   * and host.json keeps the whole list for the launcher and its agents.
   */
  @Test
  void enrollsThroughTheFirstReplicaThatAnswersAndKeepsTheWholeList() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    KeyPair serverKeys = KeyPairs.ecP256();
    var serverCert = ca.issue(serverKeys.getPublic(),
        new Identity("test.infraveil", Identity.Kind.CONTROL_PLANE, "cp-b"), Duration.ofHours(1),
        List.of("127.0.0.1"));
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .sslContext(TlsContexts.server(List.of(serverCert), serverKeys.getPrivate(),
            List.of(ca.certificate()), ClientAuth.OPTIONAL))
        .addService(new EnrollmentServiceGrpc.EnrollmentServiceImplBase() {
          @Override
          public void enroll(EnrollRequest request, StreamObserver<EnrollResponse> out) {
            var cert = ca.signCsr(Pem.csr(request.getCsrPem()),
                Identity.host("test.infraveil", request.getHostName()), Duration.ofHours(1));
            out.onNext(EnrollResponse.newBuilder().setCertificatePem(Pem.encode(cert))
                .setCaBundlePem(Pem.encode(ca.certificate()))
                .setIdentity("spiffe://test.infraveil/host/" + request.getHostName())
                .setHostSecret(ByteString.copyFrom(new byte[32])).build());
            out.onCompleted();
          }
        }).build().start();
    int dead;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getByName("127.0.0.1"))) {
      dead = socket.getLocalPort();
    }
    Path caFile = data.resolve("bootstrap-ca.crt");
    Pem.writePublic(caFile, Pem.encode(ca.certificate()));
    HostIdentityFiles files = HostIdentityFiles.inDataDir(data);
    String list = "127.0.0.1:" + dead + ",127.0.0.1:" + server.getPort();
    try {
      var info = new Enroller(files, new TestAgents(data).log)
          .enroll(list, caFile, "tok", "web-1", java.util.Map.of());

      assertEquals(list, info.controlPlane());
      assertEquals(list, files.readHostInfo().orElseThrow().controlPlane());
    } finally {
      server.shutdownNow();
    }
  }
}
