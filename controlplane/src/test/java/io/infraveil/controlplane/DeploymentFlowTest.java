package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.KeyPairs;
import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.payload.seal.KeyWrap;
import io.infraveil.payload.seal.RecordOpener;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.payload.trust.PayloadMac;
import io.infraveil.proto.v1.CreateJoinTokenRequest;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.DesiredStateAck;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.FetchRequest;
import io.infraveil.proto.v1.FetchResponse;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.PayloadServiceGrpc;
import io.infraveil.proto.v1.PutDeploymentRequest;
import io.infraveil.proto.v1.RevokeHostRequest;
import io.infraveil.proto.v1.SyncHello;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.SyncResponse;
import io.infraveil.proto.v1.UploadPayloadResponse;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deploy path through a real control plane: enrollment, upload, placement, desired state
 * over Sync, Fetch authorization and the payload trust chain, persistence and revocation.
 */
class DeploymentFlowTest {

  @TempDir Path dir;
  OpsHarness harness;
  ControlPlane controlPlane;

  @BeforeEach
  void start() throws Exception {
    harness = new OpsHarness(dir, properties());
    controlPlane = harness.controlPlane;
  }

  /** The control plane's extra properties: none here, so its database is H2 in the data dir. */
  Map<String, Object> properties() throws Exception {
    return Map.of();
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  ManagedChannel channel(TestPki.Credential credential) throws Exception {
    return harness.channel(credential);
  }

  OperatorServiceGrpc.OperatorServiceBlockingStub operator() throws Exception {
    return harness.operator();
  }

  OpsHarness.EnrolledHost enroll(String name) throws Exception {
    return harness.enroll(name);
  }

  byte[] appArchive(String configYaml, String version) throws Exception {
    Path app = Files.createTempDirectory(dir, "app");
    Files.writeString(app.resolve("config.yaml"), configYaml);
    Files.writeString(app.resolve("VERSION"), version);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PayloadArchive.pack(app, out);
    return out.toByteArray();
  }

  UploadPayloadResponse upload(byte[] archive) throws Exception {
    return harness.upload(archive, "v1", "app");
  }

  static final String GOOD_CONFIG = """
      services:
        hello:
          run:
            start: [ "sleep 1000" ]
          healthcheck:
            cmd: "true"
      """;

  /** A Sync stream as a launcher holds it: responses queue up for the test to read. */
  final class SyncStream {
    final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    final StreamObserver<SyncRequest> requests;

    SyncStream(OpsHarness.EnrolledHost host, long heldRevision) throws Exception {
      requests = harness.openSync(host.credential(), received);
      requests.onNext(SyncRequest.newBuilder()
          .setHello(SyncHello.newBuilder().setHostName(host.name()).setHeldRevision(heldRevision)).build());
    }

    DesiredState nextDesired() throws Exception {
      Object next = next();
      if (next instanceof SyncResponse response && response.hasDesired()) {
        return response.getDesired();
      }
      throw new AssertionError("expected a desired state, got " + next);
    }

    /** The next response or error, past the answer to the hello. */
    Object next() throws Exception {
      Object next = received.poll(20, TimeUnit.SECONDS);
      if (next instanceof SyncResponse response && response.hasAccepted()) {
        return received.poll(20, TimeUnit.SECONDS);
      }
      return next;
    }
  }

  // The host's enrolled labels travel with its desired state, for config.yaml's overrides.
  @Test
  void desiredStateCarriesTheHostLabels() throws Exception {
    String token = operator().createJoinToken(CreateJoinTokenRequest.newBuilder()
        .setHostName("web-9").putLabels("provider", "aws").putLabels("zone", "b").build())
        .getJoinToken();
    OpsHarness.EnrolledHost web9 = harness.enrollWith(token, "web-9");
    String sha = upload(appArchive(GOOD_CONFIG, "v1")).getPayload().getSha256();
    SyncStream sync = new SyncStream(web9, 0);
    operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello").setPayloadSha256(sha)
        .putLabels("provider", "aws").build());
    DesiredState desired = sync.nextDesired();
    while (desired.getAgentsCount() == 0) {
      desired = sync.nextDesired();
    }
    assertEquals(java.util.Map.of("provider", "aws", "zone", "b"), desired.getHostLabelsMap());
    assertEquals("hello", desired.getAgents(0).getDeployment());
  }

  // A host enrolled after a label-targeted deployment exists gets it when its labels match
  // (enrolling recomputes that host alone), and a host whose labels differ gets nothing.
  @Test
  void aHostEnrolledLaterWithMatchingLabelsGetsALabelTargetedDeployment() throws Exception {
    OpsHarness.EnrolledHost web1 = harness.enrollWith(operator().createJoinToken(CreateJoinTokenRequest.newBuilder()
        .setHostName("web-1").putLabels("role", "web").build()).getJoinToken(), "web-1");
    String sha = upload(appArchive(GOOD_CONFIG, "v1")).getPayload().getSha256();
    operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello").setPayloadSha256(sha)
        .putLabels("role", "web").build());

    OpsHarness.EnrolledHost web2 = harness.enrollWith(operator().createJoinToken(CreateJoinTokenRequest.newBuilder()
        .setHostName("web-2").putLabels("role", "web").build()).getJoinToken(), "web-2");
    harness.enrollWith(operator().createJoinToken(CreateJoinTokenRequest.newBuilder()
        .setHostName("db-1").putLabels("role", "db").build()).getJoinToken(), "db-1");

    DesiredState onWeb2 = new SyncStream(web2, 0).nextDesired();
    assertEquals(1, onWeb2.getAgentsCount(), onWeb2.toString());
    assertEquals(sha, onWeb2.getAgents(0).getPayload().getSha256());
    assertEquals(1, new SyncStream(web1, 0).nextDesired().getAgentsCount());
    assertEquals(0, harness.controlPlane.bean(io.infraveil.controlplane.deploy.DesiredStates.class)
        .current("db-1").getAgentsCount(), "db-1 does not match role=web");
  }

  @Test
  void deployedPayloadReachesItsHostOverSyncAndFetchVerifies() throws Exception {
    OpsHarness.EnrolledHost web1 = enroll("web-1");
    var uploaded = upload(appArchive(GOOD_CONFIG, "v1"));
    assertEquals(List.of("hello"), uploaded.getServicesList());
    String sha = uploaded.getPayload().getSha256();

    SyncStream sync = new SyncStream(web1, 0);
    operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello").setPayloadSha256(sha)
        .addHosts("web-1").build());
    DesiredState desired = sync.nextDesired();
    assertEquals(1, desired.getRevision());
    assertEquals("hello", desired.getAgents(0).getDeployment());
    assertEquals(sha, desired.getAgents(0).getPayload().getSha256());
    long sequence = desired.getAgents(0).getPayload().getSequence();
    assertEquals(1, sequence);
    sync.requests.onNext(SyncRequest.newBuilder().setAck(DesiredStateAck.newBuilder().setRevision(1)).build());

    Iterator<FetchResponse> fetch = PayloadServiceGrpc.newBlockingStub(channel(web1.credential()))
        .fetch(FetchRequest.newBuilder().setDeployment("hello").setSha256(sha).build());
    FetchHeader header = fetch.next().getHeader();
    ByteArrayOutputStream ciphertext = new ByteArrayOutputStream();
    fetch.forEachRemaining(response -> ciphertext.writeBytes(response.getChunk().getData().toByteArray()));
    assertEquals(header.getCiphertextSize(), ciphertext.size());

    HostKeys keys = HostKeys.fromSecret(web1.secret());
    PayloadMac.verify(keys.macKey(), "hello", sequence, sha, header.getHmac().toByteArray());
    var dataKey = KeyWrap.unwrap(keys.wrapKey(), header.getWrappedKey().toByteArray(), sha);
    ByteArrayOutputStream plaintext = new ByteArrayOutputStream();
    var opened = RecordOpener.open(new java.io.ByteArrayInputStream(ciphertext.toByteArray()), plaintext, dataKey,
        header.getNoncePrefix().toByteArray(), header.getRecordSize(), header.getPayload().getSize());
    assertEquals(sha, opened.sha256Hex());
  }

  @Test
  void fetchResumesFromAnOffset() throws Exception {
    OpsHarness.EnrolledHost web1 = enroll("web-1");
    String sha = upload(appArchive(GOOD_CONFIG, "v1")).getPayload().getSha256();
    operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello").setPayloadSha256(sha)
        .addHosts("web-1").build());
    var stub = PayloadServiceGrpc.newBlockingStub(channel(web1.credential()));
    ByteArrayOutputStream whole = new ByteArrayOutputStream();
    var all = stub.fetch(FetchRequest.newBuilder().setDeployment("hello").setSha256(sha).build());
    long size = all.next().getHeader().getCiphertextSize();
    all.forEachRemaining(r -> whole.writeBytes(r.getChunk().getData().toByteArray()));
    long offset = size / 2;
    var rest = stub.fetch(FetchRequest.newBuilder().setDeployment("hello").setSha256(sha).setOffset(offset).build());
    rest.next();
    ByteArrayOutputStream tail = new ByteArrayOutputStream();
    long firstOffset = -1;
    while (rest.hasNext()) {
      var chunk = rest.next().getChunk();
      if (firstOffset < 0) {
        firstOffset = chunk.getOffset();
      }
      tail.writeBytes(chunk.getData().toByteArray());
    }
    assertEquals(offset, firstOffset);
    byte[] expected = java.util.Arrays.copyOfRange(whole.toByteArray(), (int) offset, (int) size);
    assertArrayEquals(expected, tail.toByteArray());
  }

  @Test
  void hostAskingForAnotherHostsPayloadIsDenied() throws Exception {
    enroll("web-1");
    OpsHarness.EnrolledHost web2 = enroll("web-2");
    String sha = upload(appArchive(GOOD_CONFIG, "v1")).getPayload().getSha256();
    operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello").setPayloadSha256(sha)
        .addHosts("web-1").build());
    var error = assertThrows(StatusRuntimeException.class, () -> PayloadServiceGrpc
        .newBlockingStub(channel(web2.credential()))
        .fetch(FetchRequest.newBuilder().setDeployment("hello").setSha256(sha).build()).next());
    assertEquals(Status.Code.PERMISSION_DENIED, error.getStatus().getCode());
    String description = error.getStatus().getDescription();
    assertTrue(description.contains("web-2") && description.contains("hello") && description.contains(sha),
        description);
    var events = controlPlane.bean(SecurityEventStore.class).recent(10);
    assertTrue(events.stream().anyMatch(e -> e.kind().equals("PERMISSION_DENIED")
        && e.method().endsWith("PayloadService/Fetch")), events.toString());
  }

  @Test
  void badConfigYamlIsRefusedAtUploadNamingFileLineAndField() throws Exception {
    String bad = """
        services:
          hello:
            clusters: two
            run:
              start: [ "sleep 1000" ]
        """;
    var error = assertThrows(StatusRuntimeException.class, () -> upload(appArchive(bad, "v1")));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    String description = error.getStatus().getDescription();
    assertTrue(description.contains("config.yaml:3: services.hello.clusters"), description);
    try (var c = controlPlane.bean(javax.sql.DataSource.class).getConnection();
        var r = c.createStatement().executeQuery(
            "SELECT (SELECT COUNT(*) FROM payloads) + (SELECT COUNT(*) FROM payload_chunks)")) {
      r.next();
      assertEquals(0, r.getLong(1), "nothing may be stored for a refused payload");
    }
    try (var uploads = Files.list(dir.resolve("data/uploads"))) {
      assertEquals(0, uploads.count(), "the spooled upload must be deleted");
    }
  }

  @Test
  void hostsDeploymentsAndDesiredStateSurviveARestart() throws Exception {
    OpsHarness.EnrolledHost web1 = enroll("web-1");
    String sha = upload(appArchive(GOOD_CONFIG, "v1")).getPayload().getSha256();
    operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello").setPayloadSha256(sha)
        .addHosts("web-1").build());
    stop();
    start();

    var hosts = operator().listHosts(io.infraveil.proto.v1.ListHostsRequest.getDefaultInstance());
    assertEquals(List.of("web-1"), hosts.getHostsList().stream().map(h -> h.getName()).toList());
    var deployments = operator().listDeployments(io.infraveil.proto.v1.ListDeploymentsRequest.getDefaultInstance());
    assertEquals(sha, deployments.getDeployments(0).getPayload().getSha256());
    DesiredState desired = new SyncStream(web1, 0).nextDesired();
    assertEquals(1, desired.getRevision(), "a restart must not bump the revision of unchanged state");
    assertEquals(sha, desired.getAgents(0).getPayload().getSha256());
    // The host secret still opens: the master key and sealed secret survived too.
    var header = PayloadServiceGrpc.newBlockingStub(channel(web1.credential()))
        .fetch(FetchRequest.newBuilder().setDeployment("hello").setSha256(sha).build()).next().getHeader();
    PayloadMac.verify(HostKeys.fromSecret(web1.secret()).macKey(), "hello", 1, sha, header.getHmac().toByteArray());
  }

  // The hello is answered at once, even when the host already holds the latest revision: the
  // launcher resets its reconnect backoff only on such an answer.
  @Test
  void syncAnswersEveryHelloSoTheLauncherKnowsItWasAccepted() throws Exception {
    OpsHarness.EnrolledHost web1 = enroll("web-1");
    SyncStream sync = new SyncStream(web1, 0);
    Object first = sync.received.poll(20, TimeUnit.SECONDS);
    assertTrue(first instanceof SyncResponse response && response.hasAccepted(),
        "expected the hello to be accepted, got " + first);
    assertEquals(0, ((SyncResponse) first).getAccepted().getRevision());
    assertNull(sync.received.poll(300, TimeUnit.MILLISECONDS), "nothing else for a current host");
  }

  @Test
  void revokingAHostClosesItsOpenSyncStreamAndRefusesItsNextCall() throws Exception {
    OpsHarness.EnrolledHost web1 = enroll("web-1");
    SyncStream sync = new SyncStream(web1, 0);
    Thread.sleep(300); // let the stream open before revoking
    var revoked = operator().revokeHost(RevokeHostRequest.newBuilder().setHostName("web-1").setReason("lost laptop").build());
    assertEquals(1, revoked.getRevokedSerialsCount());
    assertEquals(1, revoked.getClosedStreams());
    Object closed = sync.next();
    assertTrue(closed instanceof StatusRuntimeException, "expected the stream to be closed, got " + closed);
    assertEquals(Status.Code.PERMISSION_DENIED, ((StatusRuntimeException) closed).getStatus().getCode());
    assertTrue(((StatusRuntimeException) closed).getStatus().getDescription().contains("lost laptop"));

    var error = assertThrows(StatusRuntimeException.class, () -> PayloadServiceGrpc
        .newBlockingStub(channel(web1.credential()))
        .fetch(FetchRequest.newBuilder().setDeployment("x").setSha256("y").build()).next());
    assertEquals(Status.Code.PERMISSION_DENIED, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("revoked"), error.getStatus().getDescription());
  }

  @Test
  void joinTokensAreSingleUseAndTheirRefusalsSayWhy() throws Exception {
    String token = operator().createJoinToken(CreateJoinTokenRequest.newBuilder().setHostName("web-1").build())
        .getJoinToken();
    var enrollment = EnrollmentServiceGrpc.newBlockingStub(channel(null));
    KeyPair pair = KeyPairs.ecP256();
    EnrollRequest request = EnrollRequest.newBuilder().setJoinToken(token).setHostName("web-1")
        .setCsrPem(Csrs.createPem(pair, "web-1")).build();
    var response = enrollment.enroll(request);
    assertFalse(request.toString().contains("PRIVATE KEY"), "the private key must never be sent");
    assertEquals("spiffe://test.infraveil/host/web-1", response.getIdentity());
    assertEquals(32, response.getHostSecret().size());

    var reused = assertThrows(StatusRuntimeException.class, () -> enrollment.enroll(request));
    assertEquals(Status.Code.PERMISSION_DENIED, reused.getStatus().getCode());
    assertTrue(reused.getStatus().getDescription().contains("already used"), reused.getStatus().getDescription());

    var unknown = assertThrows(StatusRuntimeException.class,
        () -> enrollment.enroll(request.toBuilder().setJoinToken("ivj_nope").build()));
    assertTrue(unknown.getStatus().getDescription().contains("not known"), unknown.getStatus().getDescription());

    String shortLived = operator().createJoinToken(CreateJoinTokenRequest.newBuilder().setHostName("web-2")
        .setTtlSeconds(1).build()).getJoinToken();
    Thread.sleep(1200);
    var expired = assertThrows(StatusRuntimeException.class, () -> enrollment.enroll(request.toBuilder()
        .setJoinToken(shortLived).setHostName("web-2").build()));
    assertTrue(expired.getStatus().getDescription().contains("expired"), expired.getStatus().getDescription());
    var events = controlPlane.bean(SecurityEventStore.class).recent(10);
    assertEquals(3, events.stream().filter(e -> e.kind().equals("BAD_JOIN_TOKEN")).count(), events.toString());
  }
}
