package io.infraveil.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.certs.TlsContexts;
import io.infraveil.controlplane.ControlPlane;
import io.infraveil.controlplane.enroll.JoinTokens;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.PutDeploymentRequest;
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
import java.util.concurrent.TimeUnit;

/**
 * Placement at fleet size: enrolls N hosts in an in-process control plane, then times
 * PutDeployment naming all N over mutual-TLS gRPC — the first put (a new deployment), then new
 * versions on the same N hosts — and ListDeployments reading them back. No host is connected,
 * so each put stores the deployment, its N host rows and N desired states, and starts a
 * rollout. Prints figures, asserts nothing about speed.
 */
public final class PlacementBench {

  /** What one run measured; times in milliseconds. */
  public record Result(int hosts, int placed, long enrollMillis, long firstPutMillis, long[] versionPutMillis,
      long listMillis) {
    public String describe() {
      long[] sorted = versionPutMillis.clone();
      Arrays.sort(sorted);
      return String.format("placement: hosts=%d placed=%d enroll=%dms PutDeployment naming all: first=%dms"
              + " new version p50=%dms max=%dms (%d puts) ListDeployments=%dms",
          hosts, placed, enrollMillis, firstPutMillis, sorted[(sorted.length - 1) / 2], sorted[sorted.length - 1],
          sorted.length, listMillis);
    }
  }

  private PlacementBench() {}

  public static void main(String[] args) throws Exception {
    int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int versions = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Path dir = Files.createTempDirectory("infraveil-placement");
    System.out.println(run(dir, hosts, versions).describe());
    // The control plane's executor threads can outlive its close by a while; the figure is out.
    System.exit(0);
  }

  public static Result run(Path dir, int count, int versions) throws Exception {
    PkiDirectory pki = new PkiDirectory(dir.resolve("pki"), Clock.systemUTC());
    CertificateAuthority ca = pki.init("bench.infraveil");
    List<X509Certificate> cas = List.of(ca.certificate());
    KeyPair operatorPair = KeyPairs.ecP256();
    X509Certificate operatorCert = ca.issue(operatorPair.getPublic(),
        Identity.operator(ca.trustDomain(), "bench"), Duration.ofHours(1), List.of());
    try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, Map.of())) {
      int port = controlPlane.grpcPort();
      long enrollStart = System.nanoTime();
      List<String> hosts = enroll(controlPlane, port, cas, count);
      long enrollMillis = (System.nanoTime() - enrollStart) / 1_000_000;

      List<String> payloads = new ArrayList<>();
      for (int v = 0; v <= Math.max(1, versions); v++) {
        payloads.add(BenchHosts.upload(controlPlane, dir, "1." + v));
      }
      ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", port)
          .sslContext(TlsContexts.client(cas, List.of(operatorCert), operatorPair.getPrivate())).build();
      try {
        var operator = OperatorServiceGrpc.newBlockingStub(channel);
        // One call first so the channel's handshake is not part of the first put.
        operator.withDeadlineAfter(1, TimeUnit.MINUTES).listDeployments(ListDeploymentsRequest.getDefaultInstance());
        long start = System.nanoTime();
        int placed = operator.withDeadlineAfter(10, TimeUnit.MINUTES).putDeployment(put(payloads.get(0), hosts))
            .getDeployment().getPlacedHostsCount();
        long firstPut = (System.nanoTime() - start) / 1_000_000;
        long[] versionPuts = new long[Math.max(1, versions)];
        for (int v = 0; v < versionPuts.length; v++) {
          start = System.nanoTime();
          operator.withDeadlineAfter(10, TimeUnit.MINUTES).putDeployment(put(payloads.get(v + 1), hosts));
          versionPuts[v] = (System.nanoTime() - start) / 1_000_000;
        }
        start = System.nanoTime();
        operator.withDeadlineAfter(10, TimeUnit.MINUTES).listDeployments(ListDeploymentsRequest.getDefaultInstance());
        long list = (System.nanoTime() - start) / 1_000_000;
        return new Result(count, placed, enrollMillis, firstPut, versionPuts, list);
      } finally {
        channel.shutdownNow();
      }
    }
  }

  private static PutDeploymentRequest put(String sha, List<String> hosts) {
    return PutDeploymentRequest.newBuilder().setName("fleet").setPayloadSha256(sha).addAllHosts(hosts).build();
  }

  /** Enrolls hosts over gRPC; one key pair for all keeps this part quick (names and certificates differ). */
  private static List<String> enroll(ControlPlane controlPlane, int port, List<X509Certificate> cas, int count)
      throws Exception {
    JoinTokens tokens = controlPlane.bean(JoinTokens.class);
    KeyPair pair = KeyPairs.ecP256();
    ManagedChannel anonymous = NettyChannelBuilder.forAddress("localhost", port)
        .sslContext(TlsContexts.client(cas, null, null)).build();
    try {
      var enrollment = EnrollmentServiceGrpc.newBlockingStub(anonymous);
      List<String> hosts = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        String name = String.format("host-%05d", i);
        String token = tokens.create(name, Duration.ofMinutes(30), Map.of(), "bench").token();
        enrollment.withDeadlineAfter(30, TimeUnit.SECONDS).enroll(EnrollRequest.newBuilder()
            .setJoinToken(token).setHostName(name).setCsrPem(Csrs.createPem(pair, name)).build());
        hosts.add(name);
      }
      return hosts;
    } finally {
      anonymous.shutdownNow();
    }
  }
}
