package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.KeyPairs;
import io.infraveil.controlplane.auth.OpenStreams;
import io.infraveil.controlplane.store.CertificateStore;
import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.controlplane.store.SecurityEventStore.SecurityEventRecord;
import io.infraveil.proto.v1.CreateJoinTokenRequest;
import io.infraveil.proto.v1.CreateJoinTokenResponse;
import io.infraveil.proto.v1.ListHostsRequest;
import io.infraveil.proto.v1.RevokeHostRequest;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.RenewRequest;
import io.infraveil.proto.v1.SyncResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A host name is held by one machine at a time: real enrollments over real mTLS. */
class EnrollmentTest {

  @TempDir Path dir;
  OpsHarness harness;

  @BeforeEach
  void start() throws Exception {
    harness = new OpsHarness(dir, Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  private CreateJoinTokenResponse token(String host, boolean replace) throws Exception {
    return harness.operator().createJoinToken(CreateJoinTokenRequest.newBuilder().setHostName(host)
        .setReplace(replace).build());
  }

  private List<SecurityEventRecord> events(String kind) {
    return harness.controlPlane.bean(SecurityEventStore.class).recent(50).stream()
        .filter(event -> event.kind().equals(kind)).toList();
  }

  /** The host's certificate still gets in: a renewal over it is answered. */
  private void assertAccepted(OpsHarness.EnrolledHost host) throws Exception {
    var renewed = EnrollmentServiceGrpc.newBlockingStub(harness.channel(host.credential()))
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .renew(RenewRequest.newBuilder().setCsrPem(Csrs.createPem(KeyPairs.ecP256(), host.name())).build());
    assertTrue(renewed.getCertificatePem().contains("BEGIN CERTIFICATE"));
  }

  /** Waits until the control plane holds {@code count} open calls (a stream is registered). */
  private void awaitOpenStreams(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (harness.controlPlane.bean(OpenStreams.class).count() < count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("fewer than " + count + " open streams after 10 s");
      }
      Thread.sleep(20);
    }
  }

  @Test
  void oldJoinTokenCannotEnrollASecondLiveHostOfTheSameName() throws Exception {
    // The incident this prevents: an old token enrolled a second "web-1" beside the real one.
    String old = token("web-1", false).getJoinToken();
    CreateJoinTokenResponse newer = token("web-1", false);
    assertEquals(1, newer.getSupersededTokens(), "the newer token cancels the older unused one");
    OpsHarness.EnrolledHost real = harness.enrollWith(newer.getJoinToken(), "web-1");

    var superseded = assertThrows(StatusRuntimeException.class, () -> harness.enrollWith(old, "web-1"));
    assertEquals(Status.Code.PERMISSION_DENIED, superseded.getStatus().getCode());
    assertTrue(superseded.getStatus().getDescription().contains("a newer join token was made for this host"
        + " name"), superseded.getStatus().getDescription());
    assertEquals(1, events("BAD_JOIN_TOKEN").size());
    assertTrue(events("BAD_JOIN_TOKEN").get(0).message().contains("SUPERSEDED"));

    // Nothing changed for the real host: one certificate, still accepted.
    assertEquals(1, harness.controlPlane.bean(CertificateStore.class).forHost("web-1").size());
    assertAccepted(real);
  }

  @Test
  void enrollingANameWithALiveCertificateIsRefusedWithoutReplace() throws Exception {
    OpsHarness.EnrolledHost real = harness.enroll("web-1");
    String fresh = token("web-1", false).getJoinToken();

    var refused = assertThrows(StatusRuntimeException.class, () -> harness.enrollWith(fresh, "web-1"));
    assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
    String message = refused.getStatus().getDescription();
    assertTrue(message.contains("enrollment of host web-1 refused"), message);
    assertTrue(message.contains("live certificate (serial " + real.credential().certificate().getSerialNumber()
        .toString(16)), message);
    assertTrue(message.contains("infraveil ctl tokens create web-1 --replace"), message);
    assertEquals(1, events("ENROLLMENT_REFUSED_LIVE_HOST").size());
    assertEquals(1, harness.controlPlane.bean(CertificateStore.class).forHost("web-1").size(),
        "no certificate is issued to the refused machine");
    assertAccepted(real);
  }

  @Test
  void replaceTokenRevokesTheOldCertificateAndClosesItsStreams() throws Exception {
    OpsHarness.EnrolledHost old = harness.enroll("web-1");
    LinkedBlockingQueue<Object> oldStream = new LinkedBlockingQueue<>();
    harness.sync(old, oldStream);
    awaitOpenStreams(1);
    String replace = token("web-1", true).getJoinToken();

    OpsHarness.EnrolledHost replacement = harness.enrollWith(replace, "web-1");

    Object closed = oldStream.poll(10, TimeUnit.SECONDS);
    if (closed instanceof SyncResponse answer && answer.hasAccepted()) {
      closed = oldStream.poll(10, TimeUnit.SECONDS); // the answer to the hello comes first
    }
    assertTrue(closed instanceof StatusRuntimeException, "the old host's stream must be closed, got " + closed);
    Status status = ((StatusRuntimeException) closed).getStatus();
    assertEquals(Status.Code.PERMISSION_DENIED, status.getCode());
    assertTrue(status.getDescription().contains("replaced by a new enrollment"), status.getDescription());
    var refused = assertThrows(StatusRuntimeException.class, () -> assertAccepted(old));
    assertEquals(Status.Code.PERMISSION_DENIED, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().contains("is revoked"), refused.getStatus().getDescription());

    List<SecurityEventRecord> replaced = events("HOST_REPLACED");
    assertEquals(1, replaced.size());
    assertTrue(replaced.get(0).message().contains("1 live certificate(s) revoked"), replaced.get(0).message());
    assertTrue(replaced.get(0).message().contains("1 open stream(s) closed"), replaced.get(0).message());
    assertAccepted(replacement);
    var hosts = harness.operator().listHosts(ListHostsRequest.getDefaultInstance()).getHostsList();
    assertEquals(1, hosts.size(), "one host of the name, not two");
  }

  @Test
  void aRevokedHostEnrollsAgainWithAPlainToken() throws Exception {
    harness.enroll("web-1");
    harness.operator().revokeHost(RevokeHostRequest.newBuilder().setHostName("web-1").setReason("rebuilt").build());
    OpsHarness.EnrolledHost rebuilt = harness.enroll("web-1");
    assertAccepted(rebuilt);
    assertEquals(0, events("ENROLLMENT_REFUSED_LIVE_HOST").size());
  }
}
