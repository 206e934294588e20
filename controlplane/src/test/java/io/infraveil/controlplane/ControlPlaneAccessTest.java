package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.infraveil.certs.Identity;
import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.proto.v1.CreateJoinTokenRequest;
import io.infraveil.proto.v1.ListHostsRequest;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.ListIncidentsRequest;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who gets in: real mutual TLS on loopback, certificates made by the certs module. */
class ControlPlaneAccessTest {

  @TempDir Path dir;
  TestPki pki;
  ControlPlane controlPlane;

  @BeforeEach
  void start() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, Map.of());
  }

  @AfterEach
  void stop() {
    controlPlane.close();
  }

  private <T> T withChannel(TestPki.Credential credential, java.util.function.Function<ManagedChannel, T> call)
      throws Exception {
    ManagedChannel channel = pki.channel(controlPlane.grpcPort(), credential);
    try {
      return call.apply(channel);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static OperatorServiceGrpc.OperatorServiceBlockingStub operator(ManagedChannel channel) {
    return OperatorServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  @Test
  void operatorListsHostsAndCreatesTokens() throws Exception {
    var credential = pki.operator("alice");
    var token = withChannel(credential, channel -> operator(channel)
        .createJoinToken(CreateJoinTokenRequest.newBuilder().setHostName("web-1").build()));
    assertTrue(token.getJoinToken().startsWith("ivj_"), token.getJoinToken());
    var hosts = withChannel(credential, channel -> operator(channel).listHosts(ListHostsRequest.getDefaultInstance()));
    assertEquals(0, hosts.getHostsCount());
  }

  @Test
  void serverRefusesCallWithoutClientCertificate() throws Exception {
    var error = assertThrows(StatusRuntimeException.class, () -> withChannel(null,
        channel -> operator(channel).listHosts(ListHostsRequest.getDefaultInstance())));
    assertEquals(Status.Code.UNAUTHENTICATED, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("infraveil.v1.OperatorService/ListHosts"),
        error.getStatus().getDescription());
    assertSecurityEvent("NO_CLIENT_CERTIFICATE");
  }

  @Test
  void serverRefusesHealthWithoutClientCertificate() throws Exception {
    var error = assertThrows(StatusRuntimeException.class, () -> withChannel(null,
        channel -> HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance())));
    assertEquals(Status.Code.UNAUTHENTICATED, error.getStatus().getCode());
  }

  /** Reflection is the public contract: a client without a certificate finds the method, then learns it needs one. */
  @Test
  void reflectionAnswersACallerWithoutClientCertificate() throws Exception {
    var answer = new java.util.concurrent.CompletableFuture<io.grpc.reflection.v1.ServerReflectionResponse>();
    withChannel(null, channel -> {
      var requests = io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel).serverReflectionInfo(
          OpsHarness.observer(answer));
      requests.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
      var response = answer.orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).join();
      requests.onCompleted();
      return response;
    });
    assertTrue(answer.get().getListServicesResponse().getServiceList().stream()
        .anyMatch(service -> service.getName().equals("infraveil.v1.OperatorService")), answer.get().toString());
  }

  @Test
  void healthAnswersAnIdentifiedCaller() throws Exception {
    var response = withChannel(pki.host("web-1"),
        channel -> HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()));
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, response.getStatus());
  }

  @Test
  void serverRejectsCertificateFromAnotherCa() throws Exception {
    var error = assertThrows(StatusRuntimeException.class, () -> withChannel(TestPki.foreign("mallory"),
        channel -> operator(channel).listHosts(ListHostsRequest.getDefaultInstance())));
    // TLS 1.3: the handshake failure surfaces on the first RPC as UNAVAILABLE.
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    var refused = awaitSecurityEvent("REFUSED_HANDSHAKE");
    assertEquals("spiffe://test.infraveil/operator/mallory", refused.identity());
    assertTrue(refused.message().contains("CN=mallory"), refused.message());
  }

  @Test
  void serverRejectsExpiredCertificate() throws Exception {
    var expired = pki.expired(Identity.operator("test.infraveil", "old"));
    var error = assertThrows(StatusRuntimeException.class, () -> withChannel(expired,
        channel -> operator(channel).listHosts(ListHostsRequest.getDefaultInstance())));
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    var refused = awaitSecurityEvent("REFUSED_HANDSHAKE");
    assertEquals("spiffe://test.infraveil/operator/old", refused.identity());
    assertTrue(refused.message().toLowerCase(java.util.Locale.ROOT).contains("expired")
        || refused.message().contains("validity"), refused.message());
  }

  @Test
  void hostCallingOperatorRpcIsDeniedWithBothNamed() throws Exception {
    var error = assertThrows(StatusRuntimeException.class, () -> withChannel(pki.host("web-1"),
        channel -> operator(channel).listHosts(ListHostsRequest.getDefaultInstance())));
    assertEquals(Status.Code.PERMISSION_DENIED, error.getStatus().getCode());
    String description = error.getStatus().getDescription();
    assertTrue(description.contains("spiffe://test.infraveil/host/web-1"), description);
    assertTrue(description.contains("infraveil.v1.OperatorService/ListHosts"), description);
    assertSecurityEvent("PERMISSION_DENIED");
  }

  @Test
  void operatorListsNoIncidentsOnAFreshControlPlane() throws Exception {
    // ListIncidents is served (it used to answer UNIMPLEMENTED) and nothing is open at start.
    var incidents = withChannel(pki.operator("alice"),
        channel -> operator(channel).listIncidents(ListIncidentsRequest.getDefaultInstance()));
    assertEquals(0, incidents.getIncidentsCount());
  }

  /** Refused handshakes are recorded off the event loop: wait a little for them. */
  private SecurityEventStore.SecurityEventRecord awaitSecurityEvent(String kind) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      var found = controlPlane.bean(SecurityEventStore.class).recent(20).stream()
          .filter(event -> event.kind().equals(kind)).findFirst();
      if (found.isPresent()) {
        return found.get();
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no " + kind + " security event within 10 s: "
        + controlPlane.bean(SecurityEventStore.class).recent(20));
  }

  private void assertSecurityEvent(String kind) {
    var events = controlPlane.bean(SecurityEventStore.class).recent(10);
    assertTrue(events.stream().anyMatch(event -> event.kind().equals(kind)),
        "expected a " + kind + " security event, found " + events);
  }
}
