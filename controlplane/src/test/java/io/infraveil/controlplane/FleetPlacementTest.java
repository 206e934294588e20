package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.KeyPairs;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.proto.v1.CreateJoinTokenRequest;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.PutDeploymentRequest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Placement at fleet size, over real mTLS gRPC and H2: a deployment naming 1,000 enrolled hosts
 * is stored and placed on all of them; a refusal names why and stays small enough for a status
 * trailer; a value too long for the database is INVALID_ARGUMENT naming the field and its limit,
 * not {@code UNKNOWN: Application error}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FleetPlacementTest {

  static final int FLEET = 1_000;

  OpsHarness ops;
  OperatorServiceGrpc.OperatorServiceBlockingStub operator;
  final List<String> hosts = new ArrayList<>();
  String sha;

  @BeforeAll
  void enrollTheFleet(@TempDir Path dir) throws Exception {
    ops = new OpsHarness(dir, Map.of());
    operator = OperatorServiceGrpc.newBlockingStub(ops.channel(ops.pki.operator("alice")));
    ManagedChannel anonymous = ops.channel(null);
    // One key for every host keeps enrolling 1,000 of them quick; names and certificates differ.
    KeyPair pair = KeyPairs.ecP256();
    for (int i = 0; i < FLEET; i++) {
      String name = "host-%04d".formatted(i);
      String token = operator.withDeadlineAfter(20, TimeUnit.SECONDS).createJoinToken(
          CreateJoinTokenRequest.newBuilder().setHostName(name).build()).getJoinToken();
      EnrollmentServiceGrpc.newBlockingStub(anonymous).withDeadlineAfter(20, TimeUnit.SECONDS).enroll(
          EnrollRequest.newBuilder().setJoinToken(token).setHostName(name)
              .setCsrPem(Csrs.createPem(pair, name)).build());
      hosts.add(name);
    }
    Path app = Files.createTempDirectory(dir, "app");
    Files.writeString(app.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "sleep 1000" ]
        """);
    ByteArrayOutputStream archive = new ByteArrayOutputStream();
    PayloadArchive.pack(app, archive);
    sha = ops.upload(archive.toByteArray(), "1.0", "app").getPayload().getSha256();
  }

  @AfterAll
  void stop() throws Exception {
    ops.close();
  }

  OperatorServiceGrpc.OperatorServiceBlockingStub operator() {
    return operator.withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @Test
  void aDeploymentNamingAThousandHostsIsStoredAndPlacedOnEveryOne() {
    Deployment put = operator().putDeployment(PutDeploymentRequest.newBuilder().setName("fleet")
        .setPayloadSha256(sha).addAllHosts(hosts).build()).getDeployment();
    assertEquals(hosts, put.getPlacedHostsList());

    Deployment listed = operator().listDeployments(ListDeploymentsRequest.getDefaultInstance())
        .getDeploymentsList().stream().filter(d -> d.getName().equals("fleet")).findFirst().orElseThrow();
    assertEquals(hosts, listed.getHostsList(), "every named host is stored, in the order given");
    assertEquals(FLEET, listed.getPlacedHostsCount());

    // Fewer hosts later: the stored list shrinks with it.
    Deployment narrowed = operator().putDeployment(PutDeploymentRequest.newBuilder().setName("fleet")
        .setPayloadSha256(sha).addAllHosts(hosts.subList(0, 10)).build()).getDeployment();
    assertEquals(hosts.subList(0, 10), narrowed.getHostsList());
    assertEquals(hosts.subList(0, 10), narrowed.getPlacedHostsList());
  }

  @Test
  void aThousandHostsWithOneNotEnrolledIsRefusedNamingItInAShortMessage() {
    List<String> named = new ArrayList<>(hosts);
    named.add("nosuch");
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> operator().putDeployment(PutDeploymentRequest.newBuilder().setName("refused")
            .setPayloadSha256(sha).addAllHosts(named).build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode(), refused.toString());
    String message = refused.getStatus().getDescription();
    assertTrue(message.contains("nosuch is not enrolled"), message);
    assertTrue(message.contains("enrolled hosts: host-0000, host-0001"), message);
    assertTrue(message.contains("and " + (FLEET - 20) + " more"), message);
    assertTrue(message.getBytes(StandardCharsets.UTF_8).length < 2_000, message);
  }

  @Test
  void aValueTooLongForTheDatabaseIsInvalidArgumentNamingTheFieldAndItsLimit() {
    // Join-token labels are stored as JSON in a column of 4,000 characters.
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> operator().createJoinToken(CreateJoinTokenRequest.newBuilder().setHostName("big-labels")
            .putLabels("note", "x".repeat(5_000)).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode(), refused.toString());
    String message = refused.getStatus().getDescription();
    assertEquals("cannot store a join token for big-labels: the value for labels_json is 5011 characters"
        + " long; it takes at most 4000, so send less", message);
    assertTrue(message.length() < 500, "the value itself is not echoed back: " + message);
  }
}
