package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.infraveil.certs.TlsContexts;
import io.infraveil.cli.Main;
import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignatures;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.PublisherSignature;
import io.infraveil.proto.v1.PutDeploymentRequest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Publisher signatures end to end, with real processes: host "a" pinned the publisher key
 * "release" at enrollment ({@code launcher --publisher-key}). With only an operator certificate
 * (what a compromised control plane has), nobody can make it run an unsigned version, a version
 * with a forged signature, or an older signed version; a correctly signed new version runs. The
 * host talks through {@link ControlPlaneProxy}, which plays the compromised control plane for
 * the replay. The tests run in order on one cluster.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PublisherSignatureIT {

  private static final String HOST = "a";
  private static final String DEPLOYMENT = "hello";
  private static final Duration UP = Duration.ofSeconds(60);

  private Cluster cluster;
  private ControlPlaneProxy proxy;
  private Path keys;
  private String keyId;
  /** What host "a" was told to run for v1, signatures included, to replay it later. */
  private DesiredAgent v1Desired;
  private String serving;

  @BeforeAll
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void startCluster() throws Exception {
    cluster = Cluster.start(Cluster.runDir("PublisherSignatureIT"));
    keys = cluster.root().resolve("publisher-keys");
    String created = infraveil("keys", "create-publisher", "--dir", keys.toString(), "release");
    keyId = PublisherSignatures.keyId(
        PublisherKeys.fromPem(Files.readString(keys.resolve("release.pub"))));
    assertTrue(created.contains("key id " + keyId), created);
    proxy = ControlPlaneProxy.start(cluster.pki(), cluster.grpcEndpoint(), cluster.hostDataDir(HOST));
    cluster.startHost(HOST, proxy.endpoint(),
        List.of("--publisher-key", keys.resolve("release.pub").toString()));
    assertTrue(Files.readString(cluster.host(HOST).dataDir().resolve("identity/publishers.pem"))
        .contains("# key id " + keyId), "the launcher pinned the key at enrollment");
  }

  @AfterAll
  void stopCluster() throws Exception {
    try {
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      if (proxy != null) {
        proxy.close();
      }
    }
  }

  /** {@code infraveil ARGS} in this JVM; must exit 0; its stdout. */
  private static String infraveil(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Main(Map.of()).execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, () -> String.join(" ", args) + "\n" + printed + err);
    return printed;
  }

  private Optional<String> hello() {
    return Cluster.httpGet(cluster.helloPort(), "/");
  }

  private long helloPid() throws InterruptedException {
    cluster.waitFor("the agent saved the service's pid", UP,
        () -> cluster.servicePid(HOST, DEPLOYMENT, "hello").isPresent());
    return cluster.pidOfService(HOST, DEPLOYMENT, "hello");
  }

  private JsonNode signedDeploy(Path app) {
    return cluster.ctlJson("deploy", app.toString(), "--name", DEPLOYMENT, "--hosts", HOST,
        "--sign", keys.resolve("release.key").toString());
  }

  private static String sha(JsonNode deployed) {
    return deployed.path("upload").path("payload").path("sha256").asText();
  }

  /**
   * Waits until the launcher reports {@code reason} for a version of {@code sha}, then checks
   * that nothing of it was kept or run, that the serving version kept its process, and that the
   * control plane recorded the refusal as a security event naming the version and the reason.
   */
  private void assertRefused(String sha, String reason, long pid) throws Exception {
    String shortSha = sha.substring(0, 12);
    cluster.waitFor("the launcher reports " + reason + " for " + shortSha, UP, () -> {
      JsonNode agent = cluster.agentOnHost(HOST, DEPLOYMENT);
      return agent.path("reason").asText().equals(reason);
    });
    JsonNode agent = cluster.agentOnHost(HOST, DEPLOYMENT);
    assertEquals("AGENT_STATE_RUNNING", agent.path("state").asText(), agent.toString());
    assertFalse(agent.path("payload").path("sha256").asText().equals(sha), agent.toString());
    Path cache = cluster.host(HOST).cacheDir();
    assertFalse(Files.exists(cache.resolve(sha)), "nothing cached for " + sha);
    assertFalse(Files.exists(cache.resolve(".partial").resolve(sha + ".enc.part")),
        "no partial download kept for " + sha);
    assertFalse(Files.exists(cluster.host(HOST).agentDir(DEPLOYMENT).resolve("releases").resolve(sha)),
        "nothing extracted for " + sha);
    assertEquals(Optional.of(serving), hello());
    assertEquals(pid, helloPid(), "the running service was not restarted");
    cluster.waitFor("a PAYLOAD_REJECTED security event for " + shortSha, UP, () -> {
      for (JsonNode event : cluster.ctlJson("security-events").path("events")) {
        String message = event.path("message").asText();
        if (event.path("kind").asText().equals("PAYLOAD_REJECTED") && message.contains(shortSha)
            && message.contains(reason)) {
          return true;
        }
      }
      return false;
    });
  }

  /** Proves a version signed with the pinned key runs, and that ctl shows who signed it. */
  @Test
  @Order(1)
  void signedVersionRunsAndShowsItsSigner() throws Exception {
    JsonNode deployed = signedDeploy(cluster.helloApp("v1"));
    cluster.waitFor("hello v1 answers", UP, () -> hello().equals(Optional.of("v1")));
    serving = "v1";

    JsonNode deployment = deployed.path("deployment").path("deployment");
    assertEquals(1, deployment.path("payload").path("sequence").asLong(), deployed.toString());
    assertEquals(keyId, deployment.path("signatures").path(0).path("keyId").asText());
    assertEquals("release", deployment.path("signatures").path(0).path("keyName").asText());
    String table = cluster.ctlOk("deployments");
    assertTrue(table.contains("release (key " + keyId + ")"), table);
    String accepted = Files.readString(cluster.host(HOST).cacheDir().resolve("sequences.json"));
    assertTrue(accepted.contains(sha(deployed)), accepted);
    v1Desired = proxy.desiredStates().stream()
        .flatMap(state -> state.getAgentsList().stream())
        .filter(agent -> agent.getPayload().getSha256().equals(sha(deployed)))
        .reduce((first, second) -> second).orElseThrow();
    assertEquals(1, v1Desired.getSignaturesCount(), v1Desired.toString());
  }

  /** Proves the operator certificate alone cannot make the host run an unsigned version. */
  @Test
  @Order(2)
  void unsignedVersionIsRefusedAndTheSignedOneKeepsRunning() throws Exception {
    long pid = helloPid();

    JsonNode deployed = cluster.deploy(cluster.helloApp("unsigned"), DEPLOYMENT, HOST);

    assertEquals(0, deployed.path("deployment").path("deployment").path("signatures").size());
    assertRefused(sha(deployed), "PAYLOAD_REJECTED_SIGNATURE_MISSING", pid);
  }

  /**
   * Proves a forged signature is refused: the operator API attaches v1's genuine signature,
   * made by the pinned key, to another payload under a new sequence.
   */
  @Test
  @Order(3)
  void signatureCopiedOntoAnotherVersionIsRefused() throws Exception {
    long pid = helloPid();
    PublisherSignature stolen = v1Desired.getSignatures(0);
    Path pki = cluster.pki().dir();
    ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", cluster.grpcPort())
        .sslContext(TlsContexts.client(pki.resolve("ca.crt"), pki.resolve("e2e.crt"),
            pki.resolve("e2e.key")))
        .build();
    String sha;
    try {
      // Uploaded only (deployed nowhere), as the operator API allows.
      sha = uploadOnly(channel, cluster.helloApp("forged"), "forged");
      OperatorServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .putDeployment(PutDeploymentRequest.newBuilder().setName(DEPLOYMENT)
              .setPayloadSha256(sha).addHosts(HOST).setSequence(1_000)
              .addSignatures(stolen.toBuilder().setSignature(ByteString.copyFrom(
                  stolen.getSignature().toByteArray())))
              .build());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    assertRefused(sha, "PAYLOAD_REJECTED_SIGNATURE_INVALID", pid);
  }

  /** Proves a correctly signed new version replaces the running one. */
  @Test
  @Order(4)
  void signedNewVersionRuns() throws Exception {
    JsonNode deployed = signedDeploy(cluster.helloApp("v2"));

    cluster.waitFor("hello v2 answers", UP, () -> hello().equals(Optional.of("v2")));
    serving = "v2";
    assertEquals(1_001, deployed.path("deployment").path("deployment").path("payload")
        .path("sequence").asLong(), "the next sequence above the forged one");
  }

  /**
   * Proves an older signed version cannot be replayed: a control plane in an attacker's hands
   * (the proxy) pushes v1 with its genuine signature and sequence as the desired state. The
   * host refuses it before fetching anything, although v1's bytes are still in its cache.
   */
  @Test
  @Order(5)
  void olderSignedVersionReplayedByTheControlPlaneIsRefused() throws Exception {
    long pid = helloPid();
    String v1Sha = v1Desired.getPayload().getSha256();
    assertTrue(Files.isDirectory(cluster.host(HOST).cacheDir().resolve(v1Sha)), "v1 is cached");
    int fetchesBefore = proxy.fetches().size();
    proxy.rewriteDesired(state -> replayV1(state));
    try {
      // Any change makes the control plane push a new revision, which the proxy rewrites.
      cluster.ctlOk("rollback", DEPLOYMENT);

      cluster.waitFor("the launcher reports PAYLOAD_REJECTED_STALE_SEQUENCE", UP, () ->
          cluster.agentOnHost(HOST, DEPLOYMENT).path("reason").asText()
              .equals("PAYLOAD_REJECTED_STALE_SEQUENCE"));
    } finally {
      proxy.rewriteDesired(null);
    }
    assertEquals(Optional.of("v2"), hello());
    assertEquals(pid, helloPid(), "the running service was not restarted");
    assertTrue(proxy.fetches().stream().skip(fetchesBefore)
        .noneMatch(request -> request.getSha256().equals(v1Sha)), "nothing fetched for the replay");
    cluster.waitFor("a PAYLOAD_REJECTED security event for the replay", UP, () -> {
      for (JsonNode event : cluster.ctlJson("security-events").path("events")) {
        if (event.path("message").asText().contains("PAYLOAD_REJECTED_STALE_SEQUENCE")) {
          return true;
        }
      }
      return false;
    });
  }

  private DesiredState replayV1(DesiredState state) {
    DesiredState.Builder replayed = state.toBuilder().clearAgents();
    for (DesiredAgent agent : state.getAgentsList()) {
      replayed.addAgents(agent.getDeployment().equals(DEPLOYMENT)
          ? agent.toBuilder().setPayload(v1Desired.getPayload()).clearSignatures()
              .addAllSignatures(v1Desired.getSignaturesList()).build()
          : agent);
    }
    return replayed.build();
  }

  /** Uploads {@code app} as a payload without deploying it; returns its sha256. */
  private static String uploadOnly(ManagedChannel channel, Path app, String version) throws Exception {
    java.io.ByteArrayOutputStream archive = new java.io.ByteArrayOutputStream();
    io.infraveil.payload.archive.PayloadArchive.pack(app, archive);
    java.util.concurrent.CompletableFuture<io.infraveil.proto.v1.UploadPayloadResponse> answer =
        new java.util.concurrent.CompletableFuture<>();
    var requests = OperatorServiceGrpc.newStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .uploadPayload(new io.grpc.stub.StreamObserver<>() {
          @Override
          public void onNext(io.infraveil.proto.v1.UploadPayloadResponse response) {
            answer.complete(response);
          }

          @Override
          public void onError(Throwable error) {
            answer.completeExceptionally(error);
          }

          @Override
          public void onCompleted() {
            answer.completeExceptionally(new IllegalStateException("upload closed without an answer"));
          }
        });
    requests.onNext(io.infraveil.proto.v1.UploadPayloadRequest.newBuilder().setMetadata(
        io.infraveil.proto.v1.UploadMetadata.newBuilder().setVersion(version).setSourceName("forged")).build());
    requests.onNext(io.infraveil.proto.v1.UploadPayloadRequest.newBuilder()
        .setChunk(ByteString.copyFrom(archive.toByteArray())).build());
    requests.onCompleted();
    return answer.get(60, TimeUnit.SECONDS).getPayload().getSha256();
  }
}
