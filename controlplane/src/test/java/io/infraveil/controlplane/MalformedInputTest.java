package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.KeyPairs;
import io.infraveil.proto.v1.CreateJoinTokenRequest;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.SyncHello;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.UploadMetadata;
import io.infraveil.proto.v1.UploadPayloadRequest;
import io.infraveil.proto.v1.UploadPayloadResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Oversized and malformed messages are refused with a status that says what was wrong. */
class MalformedInputTest {

  @TempDir Path dir;
  OpsHarness harness;
  TestPki pki;

  @BeforeEach
  void start() throws Exception {
    harness = new OpsHarness(dir, Map.of());
    pki = harness.pki;
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  ManagedChannel channel(TestPki.Credential credential) throws Exception {
    return harness.channel(credential);
  }

  TestPki.Credential enroll(String name) throws Exception {
    return harness.enroll(name).credential();
  }

  @Test
  void messageOverTheInboundLimitIsRefusedWithResourceExhausted() throws Exception {
    LinkedBlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
    StreamObserver<UploadPayloadRequest> upload = OperatorServiceGrpc.newStub(channel(pki.operator("alice")))
        .uploadPayload(new StreamObserver<UploadPayloadResponse>() {
          @Override
          public void onNext(UploadPayloadResponse value) {}

          @Override
          public void onError(Throwable t) {
            errors.add(t);
          }

          @Override
          public void onCompleted() {}
        });
    upload.onNext(UploadPayloadRequest.newBuilder().setMetadata(UploadMetadata.newBuilder().setVersion("x")).build());
    upload.onNext(UploadPayloadRequest.newBuilder().setChunk(ByteString.copyFrom(new byte[5 * 1024 * 1024])).build());
    upload.onCompleted();
    Throwable error = errors.poll(20, TimeUnit.SECONDS);
    assertTrue(error instanceof StatusRuntimeException, String.valueOf(error));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, ((StatusRuntimeException) error).getStatus().getCode());
  }

  @Test
  void enrollWithAGarbageCsrIsInvalidArgument() throws Exception {
    String token = OperatorServiceGrpc.newBlockingStub(channel(pki.operator("alice")))
        .createJoinToken(CreateJoinTokenRequest.newBuilder().setHostName("web-1").build()).getJoinToken();
    var error = assertThrows(StatusRuntimeException.class, () -> EnrollmentServiceGrpc.newBlockingStub(channel(null))
        .enroll(EnrollRequest.newBuilder().setJoinToken(token).setHostName("web-1").setCsrPem("not a csr").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().startsWith("csr_pem:"), error.getStatus().getDescription());
  }

  @Test
  void enrollWithABadHostNameIsInvalidArgument() throws Exception {
    var error = assertThrows(StatusRuntimeException.class, () -> EnrollmentServiceGrpc.newBlockingStub(channel(null))
        .enroll(EnrollRequest.newBuilder().setJoinToken("ivj_x").setHostName("../etc")
            .setCsrPem(Csrs.createPem(KeyPairs.ecP256(), "x")).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("../etc"), error.getStatus().getDescription());
  }

  @Test
  void syncReportBeforeHelloIsRefusedAndHelloAsAnotherHostIsDenied() throws Exception {
    TestPki.Credential web1 = enroll("web-1");
    Throwable early = syncError(web1, SyncRequest.newBuilder().setReport(HostReport.getDefaultInstance()).build());
    assertEquals(Status.Code.FAILED_PRECONDITION, Status.fromThrowable(early).getCode());
    assertTrue(Status.fromThrowable(early).getDescription().contains("SyncHello first"));

    Throwable impostor = syncError(web1, SyncRequest.newBuilder()
        .setHello(SyncHello.newBuilder().setHostName("web-2")).build());
    assertEquals(Status.Code.PERMISSION_DENIED, Status.fromThrowable(impostor).getCode());
    assertTrue(Status.fromThrowable(impostor).getDescription().contains("may not sync as web-2"));

    Throwable empty = syncError(web1, SyncRequest.getDefaultInstance());
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(empty).getCode());
  }

  private Throwable syncError(TestPki.Credential credential, SyncRequest first) throws Exception {
    LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    harness.openSync(credential, received).onNext(first);
    Object outcome = received.poll(20, TimeUnit.SECONDS);
    assertTrue(outcome instanceof Throwable, "expected the stream to be refused, got " + outcome);
    return (Throwable) outcome;
  }
}
