package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.infraveil.certs.TlsContexts;
import io.infraveil.certs.TlsProvider;
import io.infraveil.controlplane.grpc.ServerTlsContext;
import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.proto.v1.RevokeHostRequest;
import io.netty.handler.ssl.SslContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host that reconnects resumes its TLS session (no full handshake), over real gRPC and
 * mutual TLS; and a resumption is no way around revocation: once the host is revoked, a
 * resumed session is refused like a full handshake would be.
 */
class ResumedSessionTest {

  @TempDir Path dir;
  OpsHarness harness;

  @BeforeEach
  void start() throws Exception {
    assumeTrue(TlsProvider.isOpenSsl(), "resumptions are counted by BoringSSL");
    harness = new OpsHarness(dir, Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  /** One connection with the host's TLS context (its session cache), one health call, closed. */
  private HealthCheckResponse connectOnce(SslContext hostTls) throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", harness.controlPlane.grpcPort())
        .sslContext(hostTls).build();
    try {
      return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance());
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private long resumed() {
    return harness.controlPlane.bean(ServerTlsContext.class).resumedHandshakes();
  }

  @Test
  void aReconnectingHostResumesButARevokedOneIsRefusedOnTheResumedSession() throws Exception {
    OpsHarness.EnrolledHost host = harness.enroll("web-1");
    SslContext hostTls = TlsContexts.client(List.of(harness.pki.ca.certificate()),
        List.of(host.credential().certificate()), host.credential().key());

    assertEquals(HealthCheckResponse.ServingStatus.SERVING, connectOnce(hostTls).getStatus());
    long before = resumed();
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, connectOnce(hostTls).getStatus());
    assertEquals(before + 1, resumed(), "the second connection resumed from its ticket");

    harness.operator().revokeHost(RevokeHostRequest.newBuilder().setHostName("web-1").setReason("stolen").build());
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> connectOnce(hostTls));

    assertEquals(before + 2, resumed(), "the refused connection was a resumption too");
    assertEquals(Status.Code.PERMISSION_DENIED, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().contains("is revoked"), refused.getStatus().getDescription());
    assertTrue(harness.controlPlane.bean(SecurityEventStore.class).recent(20).stream()
        .anyMatch(event -> event.kind().equals("REVOKED_CERTIFICATE")
            && "spiffe://test.infraveil/host/web-1".equals(event.identity())));
  }
}
