package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignatures;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.PublisherSignature;
import io.infraveil.proto.v1.PutDeploymentRequest;
import io.infraveil.proto.v1.SyncResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed deploys through a real control plane: the publisher's sequence is used as sent, must be
 * new for the name, travels with its signatures to the host and shows in the deployment view.
 */
class SignedDeploymentTest {

  @TempDir Path dir;
  OpsHarness harness;
  KeyPair publisher;

  @BeforeEach
  void start() throws Exception {
    harness = new OpsHarness(dir, Map.of());
    publisher = PublisherKeys.newKeyPair(new SecureRandom());
    // Deployments name enrolled hosts only: where uploads are parked, and targets of the tests.
    harness.enroll("nobody");
    harness.enroll("somebody");
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  PublisherSignature sign(String deployment, long sequence, String sha256) {
    return PublisherSignature.newBuilder()
        .setKeyId(PublisherSignatures.keyId(publisher.getPublic()))
        .setKeyName("release")
        .setSignature(ByteString.copyFrom(
            PublisherSignatures.sign(publisher.getPrivate(), deployment, sequence, sha256)))
        .build();
  }

  Deployment put(String sha256, long sequence, List<PublisherSignature> signatures, String host)
      throws Exception {
    return harness.operator().putDeployment(PutDeploymentRequest.newBuilder().setName("web")
        .setPayloadSha256(sha256).addHosts(host).setSequence(sequence)
        .addAllSignatures(signatures).build()).getDeployment();
  }

  /** An app with the given content, uploaded; its hash. */
  String upload(String content) throws Exception {
    return harness.deploy("scratch-" + content, content, "nobody");
  }

  @Test
  void signedSequenceIsUsedAsSentAndReachesTheHostWithItsSignature() throws Exception {
    OpsHarness.EnrolledHost host = harness.enroll("web-1");
    LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    harness.sync(host, received);
    String sha = upload("v1");
    PublisherSignature signature = sign("web", 41, sha);

    Deployment deployed = put(sha, 41, List.of(signature), "web-1");

    assertEquals(41, deployed.getPayload().getSequence());
    assertEquals(List.of(signature), deployed.getSignaturesList());
    DesiredAgent agent = awaitAgent(received, "web");
    assertEquals(41, agent.getPayload().getSequence());
    assertEquals(sha, agent.getPayload().getSha256());
    assertEquals(List.of(signature), agent.getSignaturesList());
    Deployment listed = harness.operator().listDeployments(ListDeploymentsRequest.getDefaultInstance())
        .getDeploymentsList().stream().filter(d -> d.getName().equals("web")).findFirst().orElseThrow();
    assertEquals("release", listed.getSignatures(0).getKeyName());
  }

  @Test
  void sequenceNotAboveTheLastOneIsRefusedAndNothingChanges() throws Exception {
    String v1 = upload("v1");
    String v2 = upload("v2");
    put(v1, 5, List.of(sign("web", 5, v1)), "nobody");

    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> put(v2, 5, List.of(sign("web", 5, v2)), "nobody"));

    assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().contains(
        "deployment web already had sequence 5, so sequence 5 is not new"),
        refused.getStatus().getDescription());
    assertTrue(refused.getStatus().getDescription().contains("--sequence 6"),
        refused.getStatus().getDescription());
    Deployment current = harness.operator().listDeployments(ListDeploymentsRequest.getDefaultInstance())
        .getDeploymentsList().stream().filter(d -> d.getName().equals("web")).findFirst().orElseThrow();
    assertEquals(v1, current.getPayload().getSha256());
    assertEquals(5, current.getPayload().getSequence());
  }

  @Test
  void signaturesWithoutTheirSequenceAreRefused() throws Exception {
    String v1 = upload("v1");

    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> put(v1, 0, List.of(sign("web", 1, v1)), "nobody"));

    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().contains("publisher signatures but no sequence"),
        refused.getStatus().getDescription());
  }

  @Test
  void unsignedDeployAfterASignedOneContinuesAboveTheSignedSequence() throws Exception {
    String v1 = upload("v1");
    String v2 = upload("v2");
    put(v1, 100, List.of(sign("web", 100, v1)), "nobody");

    Deployment unsigned = put(v2, 0, List.of(), "nobody");

    assertEquals(101, unsigned.getPayload().getSequence());
    assertEquals(0, unsigned.getSignaturesCount());
  }

  @Test
  void changingOnlyTheTargetsKeepsSequenceAndSignatures() throws Exception {
    String v1 = upload("v1");
    PublisherSignature signature = sign("web", 7, v1);
    put(v1, 7, List.of(signature), "nobody");

    Deployment moved = put(v1, 0, List.of(), "somebody");

    assertEquals(7, moved.getPayload().getSequence());
    assertEquals(List.of(signature), moved.getSignaturesList());
    assertEquals(List.of("somebody"), moved.getHostsList());
  }

  private static DesiredAgent awaitAgent(LinkedBlockingQueue<Object> received, String deployment)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      Object next = received.poll(1, TimeUnit.SECONDS);
      if (next instanceof SyncResponse response && response.hasDesired()) {
        for (DesiredAgent agent : response.getDesired().getAgentsList()) {
          if (agent.getDeployment().equals(deployment)) {
            return agent;
          }
        }
      }
    }
    throw new AssertionError("no desired state naming " + deployment + " within 20 s");
  }
}
