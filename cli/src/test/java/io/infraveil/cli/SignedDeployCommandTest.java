package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.Identity;
import io.infraveil.certs.Pem;
import io.infraveil.certs.TlsContexts;
import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignature;
import io.infraveil.payload.trust.PublisherSignatures;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.ListDeploymentsResponse;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.PutDeploymentRequest;
import io.infraveil.proto.v1.PutDeploymentResponse;
import io.infraveil.proto.v1.UploadPayloadRequest;
import io.infraveil.proto.v1.UploadPayloadResponse;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ctl deploy --sign} against a real control plane over mTLS: the signature it sends
 * verifies against the pinned public key for the deployment, sequence and hash stored, and
 * {@code ctl deployments} names the signer.
 */
class SignedDeployCommandTest {

  @TempDir Path dir;
  TestControlPlane server;
  Path keys;
  PublicKey pinned;

  @BeforeEach
  void start() throws Exception {
    server = new TestControlPlane(dir);
    server.enrolled("web-1", Map.of());
    keys = dir.resolve("keys");
    assertEquals(0, Cli.run("keys", "create-publisher", "--dir", keys.toString(), "release").code());
    pinned = PublisherKeys.fromPem(Files.readString(keys.resolve("release.pub")));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Cli.Result ctl(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "ctl";
    System.arraycopy(args, 0, all, 1, args.length);
    return Cli.run(Map.of("INFRAVEIL_CONTEXT", server.context.toString()), all);
  }

  private Path app(String version) throws Exception {
    Path app = Files.createDirectories(dir.resolve("app-" + version));
    Files.writeString(app.resolve("config.yaml"), """
        services:
          web:
            run:
              start: [ "sleep 1000" ]
        """);
    Files.writeString(app.resolve("VERSION"), version);
    return app;
  }

  private Deployment listed(String name) throws Exception {
    Cli.Result result = ctl("deployments", "-o", "json");
    assertEquals(0, result.code(), result::toString);
    ListDeploymentsResponse.Builder parsed = ListDeploymentsResponse.newBuilder();
    JsonFormat.parser().merge(result.out(), parsed);
    return parsed.getDeploymentsList().stream().filter(d -> d.getName().equals(name))
        .findFirst().orElseThrow();
  }

  private void assertSignedByRelease(Deployment deployment) throws Exception {
    assertEquals(1, deployment.getSignaturesCount());
    var signature = deployment.getSignatures(0);
    assertEquals("release", signature.getKeyName());
    assertEquals(PublisherSignatures.keyId(pinned), signature.getKeyId());
    // What a host with the key pinned checks: this throws unless it verifies.
    PublisherSignatures.verify(List.of(pinned), deployment.getName(),
        deployment.getPayload().getSequence(), deployment.getPayload().getSha256(),
        List.of(new PublisherSignature(signature.getKeyId(), signature.getSignature().toByteArray())));
  }

  @Test
  void signedDeploysTakeTheNextSequenceAndVerifyAgainstThePinnedKey() throws Exception {
    Cli.Result first = ctl("deploy", app("v1").toString(), "--name", "web", "--hosts", "web-1",
        "--sign", keys.resolve("release.key").toString());
    assertEquals(0, first.code(), first::toString);
    String keyId = PublisherSignatures.keyId(pinned);
    assertTrue(first.out().contains("sequence:  1, signed by release (key " + keyId + ")"),
        first::toString);
    assertSignedByRelease(listed("web"));

    Cli.Result second = ctl("deploy", app("v2").toString(), "--name", "web", "--hosts", "web-1",
        "--sign", keys.resolve("release.key").toString());
    assertEquals(0, second.code(), second::toString);
    Deployment v2 = listed("web");
    assertEquals(2, v2.getPayload().getSequence());
    assertSignedByRelease(v2);

    Cli.Result table = ctl("deployments");
    assertEquals(0, table.code(), table::toString);
    assertTrue(table.out().contains("SIGNED BY"), table::toString);
    assertTrue(table.out().contains("release (key " + keyId + ")"), table::toString);
  }

  @Test
  void anExplicitSequenceThatIsNotNewIsRefusedWithTheNextOneToUse() throws Exception {
    assertEquals(0, ctl("deploy", app("v1").toString(), "--name", "web", "--hosts", "web-1",
        "--sign", keys.resolve("release.key").toString(), "--sequence", "10").code());

    Cli.Result stale = ctl("deploy", app("v2").toString(), "--name", "web", "--hosts", "web-1",
        "--sign", keys.resolve("release.key").toString(), "--sequence", "10");

    assertEquals(1, stale.code(), stale::toString);
    assertTrue(stale.err().startsWith("error: FAILED_PRECONDITION: deployment web already had "
        + "sequence 10"), stale::toString);
    assertTrue(stale.err().contains("--sequence 11"), stale::toString);
    assertEquals(10, listed("web").getPayload().getSequence());
  }

  @Test
  void aMissingKeyFailsBeforeAnythingIsUploaded() throws Exception {
    Cli.Result result = ctl("deploy", app("v1").toString(), "--name", "web", "--hosts", "web-1",
        "--sign", keys.resolve("nope.key").toString());

    assertEquals(1, result.code(), result::toString);
    assertTrue(result.err().contains("publisher key " + keys.resolve("nope.key")
        + " does not exist; make one with `infraveil keys create-publisher"), result::toString);
    Cli.Result list = ctl("deployments", "-o", "json");
    assertTrue(!list.out().contains("\"web\""), list::toString);
  }

  @Test
  void rollingBackASignedDeploymentWarnsThatPinnedHostsRefuseIt() throws Exception {
    assertEquals(0, ctl("deploy", app("v1").toString(), "--name", "web", "--hosts", "web-1",
        "--sign", keys.resolve("release.key").toString()).code());
    assertEquals(0, ctl("deploy", app("v2").toString(), "--name", "web", "--hosts", "web-1",
        "--sign", keys.resolve("release.key").toString()).code());

    Cli.Result result = ctl("rollback", "web");

    assertEquals(0, result.code(), result::toString);
    assertTrue(result.out().contains("sequence:  3, unsigned"), result::toString);
    assertTrue(result.err().startsWith("warning: web was signed, and the version it rolled back "
        + "to is not: hosts with pinned publisher keys refuse it"), result::toString);
    assertTrue(result.err().contains("deploying the old version again with --sign KEY"),
        result::toString);
  }

  @Test
  void unsignedDeploysSayUnsigned() throws Exception {
    Cli.Result result = ctl("deploy", app("v1").toString(), "--name", "web", "--hosts", "web-1");

    assertEquals(0, result.code(), result::toString);
    assertTrue(result.out().contains("sequence:  1, unsigned"), result::toString);
  }

  /**
   * A control plane that answers an upload with another payload's hash gets nothing signed:
   * ctl signs only the hash of the archive it sent itself.
   */
  @Test
  void aControlPlaneAnsweringWithAnotherHashGetsNoSignature() throws Exception {
    List<PutDeploymentRequest> puts =
        new CopyOnWriteArrayList<>();
    String otherSha = "e".repeat(64);
    var issued = server.pki.issue(Identity.Kind.CONTROL_PLANE, "liar",
        List.of("localhost", "127.0.0.1"), Duration.ofHours(1));
    Server liar = NettyServerBuilder
        .forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .sslContext(TlsContexts.server(
            Pem.readCertificates(issued.certFile()),
            Pem.readPrivateKey(issued.keyFile()),
            Pem.readCertificates(server.pki.caCertFile()),
            ClientAuth.REQUIRE))
        .addService(new OperatorServiceGrpc.OperatorServiceImplBase() {
          @Override
          public StreamObserver<UploadPayloadRequest> uploadPayload(
              StreamObserver<UploadPayloadResponse> out) {
            return new StreamObserver<>() {
              @Override
              public void onNext(UploadPayloadRequest request) {}

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {
                out.onNext(UploadPayloadResponse.newBuilder()
                    .setPayload(PayloadRef.newBuilder().setSha256(otherSha))
                    .build());
                out.onCompleted();
              }
            };
          }

          @Override
          public void putDeployment(PutDeploymentRequest request,
              StreamObserver<PutDeploymentResponse> out) {
            puts.add(request);
            out.onNext(PutDeploymentResponse.getDefaultInstance());
            out.onCompleted();
          }
        })
        .build().start();
    try {
      Path context = Files.writeString(dir.resolve("liar.yaml"), """
          endpoint: localhost:%d
          ca: pki/ca.crt
          cert: pki/alice.crt
          key: pki/alice.key
          """.formatted(liar.getPort()));
      Path app = app("v1");

      Cli.Result result = Cli.run("ctl", "--context", context.toString(), "deploy", app.toString(),
          "--name", "web", "--hosts", "web-1", "--sign", keys.resolve("release.key").toString());

      assertEquals(1, result.code(), result::toString);
      assertTrue(result.err().contains("answered the upload of " + app + " with sha256 " + otherSha
          + ", but the archive sent has sha256 "), result::toString);
      assertTrue(result.err().contains("nothing was signed or deployed"), result::toString);
      assertEquals(List.of(), puts, "no PutDeployment, so no signature left this machine");
    } finally {
      liar.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
