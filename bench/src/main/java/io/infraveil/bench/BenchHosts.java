package io.infraveil.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import io.infraveil.certs.TlsContexts;
import io.infraveil.controlplane.ControlPlane;
import io.infraveil.controlplane.enroll.JoinTokens;
import io.infraveil.controlplane.payloads.PayloadIntake;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Simulated hosts for fleet benchmarks: enrollment over gRPC, mutual-TLS channels, percentiles. */
final class BenchHosts {

  /** An enrolled host: its name, certificate and key. */
  record Enrolled(String name, X509Certificate certificate, PrivateKey key) {}

  private BenchHosts() {}

  /**
   * Enrolls {@code count} hosts named {@code host-00000}… over gRPC. One key pair for all keeps
   * this part quick; names and certificates differ, and each host connects with its own.
   */
  static List<Enrolled> enroll(ControlPlane controlPlane, List<X509Certificate> cas, int count) throws Exception {
    JoinTokens tokens = controlPlane.bean(JoinTokens.class);
    KeyPair pair = KeyPairs.ecP256();
    ManagedChannel anonymous = channel(controlPlane.grpcPort(), cas, null, null);
    try {
      var enrollment = EnrollmentServiceGrpc.newBlockingStub(anonymous);
      List<Enrolled> hosts = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        String name = String.format("host-%05d", i);
        String token = tokens.create(name, Duration.ofMinutes(30), Map.of(), "bench").token();
        var response = enrollment.withDeadlineAfter(30, TimeUnit.SECONDS).enroll(EnrollRequest.newBuilder()
            .setJoinToken(token).setHostName(name).setCsrPem(Csrs.createPem(pair, name)).build());
        hosts.add(new Enrolled(name, Pem.certificate(response.getCertificatePem()), pair.getPrivate()));
      }
      return hosts;
    } finally {
      anonymous.shutdownNow();
    }
  }

  /** A channel to the control plane with the client certificate (none when null). */
  static ManagedChannel channel(int port, List<X509Certificate> cas, X509Certificate certificate, PrivateKey key)
      throws Exception {
    return NettyChannelBuilder.forAddress("localhost", port)
        .sslContext(TlsContexts.client(cas, certificate == null ? null : List.of(certificate), key))
        .build();
  }

  /** The p-th percentile (nearest rank) of sorted values. */
  static long percentile(long[] sorted, int p) {
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  /** Uploads a payload whose one service sleeps; its sha256. */
  static String upload(ControlPlane controlPlane, Path dir, String version) throws Exception {
    Path app = Files.createTempDirectory(dir, "app");
    Files.writeString(app.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "sleep 1000" ]
        """);
    Files.writeString(app.resolve("VERSION"), version);
    ByteArrayOutputStream archive = new ByteArrayOutputStream();
    PayloadArchive.pack(app, archive);
    var upload = controlPlane.bean(PayloadIntake.class).begin(version, "app", "bench");
    upload.write(archive.toByteArray());
    return upload.finish().payload().sha256();
  }
}
