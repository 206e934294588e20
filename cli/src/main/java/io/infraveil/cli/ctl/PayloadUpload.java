package io.infraveil.cli.ctl;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.UploadMetadata;
import io.infraveil.proto.v1.UploadPayloadRequest;
import io.infraveil.proto.v1.UploadPayloadResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Streams a {@code .tar.gz} to UploadPayload: metadata first, then chunks of
 * {@link #CHUNK_BYTES}, sent only while the transport is ready so a large payload never piles
 * up in memory. Stops sending as soon as the server answers (or refuses).
 */
final class PayloadUpload {

  static final int CHUNK_BYTES = 64 * 1024;

  private PayloadUpload() {}

  static UploadPayloadResponse upload(OperatorServiceGrpc.OperatorServiceStub stub, Path tarGz,
      UploadMetadata metadata, long deadlineSeconds) throws IOException, InterruptedException {
    CompletableFuture<UploadPayloadResponse> result = new CompletableFuture<>();
    Semaphore ready = new Semaphore(0);
    ClientResponseObserver<UploadPayloadRequest, UploadPayloadResponse> responses =
        new ClientResponseObserver<>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<UploadPayloadRequest> requests) {
            requests.setOnReadyHandler(ready::release);
          }

          @Override
          public void onNext(UploadPayloadResponse response) {
            result.complete(response);
          }

          @Override
          public void onError(Throwable error) {
            result.completeExceptionally(error);
            ready.release();
          }

          @Override
          public void onCompleted() {
            result.completeExceptionally(
                new IllegalStateException("the control plane closed the upload without an answer"));
            ready.release();
          }
        };
    @SuppressWarnings("unchecked")
    ClientCallStreamObserver<UploadPayloadRequest> requests =
        (ClientCallStreamObserver<UploadPayloadRequest>) stub
            .withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS)
            .uploadPayload(responses);
    try (InputStream in = Files.newInputStream(tarGz)) {
      requests.onNext(UploadPayloadRequest.newBuilder().setMetadata(metadata).build());
      byte[] buffer = new byte[CHUNK_BYTES];
      int read;
      while (!result.isDone() && (read = in.readNBytes(buffer, 0, buffer.length)) > 0) {
        while (!requests.isReady() && !result.isDone()) {
          ready.tryAcquire(100, TimeUnit.MILLISECONDS);
        }
        if (result.isDone()) {
          break;
        }
        requests.onNext(UploadPayloadRequest.newBuilder()
            .setChunk(ByteString.copyFrom(buffer, 0, read)).build());
      }
      if (!result.isDone()) {
        requests.onCompleted();
      }
    } catch (IOException | RuntimeException e) {
      requests.cancel("upload aborted: " + e.getMessage(), e);
      throw e;
    }
    try {
      return result.get(deadlineSeconds, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException refused) {
        throw refused;
      }
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IOException("upload failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      requests.cancel("no answer in time", e);
      throw new IOException("the control plane did not answer the upload within "
          + deadlineSeconds + " s");
    }
  }
}
