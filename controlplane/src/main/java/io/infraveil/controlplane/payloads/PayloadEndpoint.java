package io.infraveil.controlplane.payloads;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.MasterKey;
import io.infraveil.controlplane.auth.Caller;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.enroll.Enrollment;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.payload.seal.KeyWrap;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.payload.trust.PayloadMac;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.FetchRequest;
import io.infraveil.proto.v1.FetchResponse;
import io.infraveil.proto.v1.PayloadChunk;
import io.infraveil.proto.v1.PayloadServiceGrpc;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.security.SecureRandom;
import javax.crypto.spec.SecretKeySpec;

/**
 * Serves payload ciphertext to the hosts a deployment is placed on: a header (the data key
 * wrapped for that host, a MAC binding deployment, sequence and hash with that host's key), then
 * the stored ciphertext from the requested offset, read from the database's chunk rows and paced
 * by the client's flow control.
 */
@Singleton
final class PayloadEndpoint extends PayloadServiceGrpc.PayloadServiceImplBase {

  private static final int CHUNK_BYTES = 64 * 1024;

  private final DesiredStates desiredStates;
  private final PayloadStore payloads;
  private final MasterKey masterKey;
  private final Enrollment enrollment;
  private final SecureRandom random;

  PayloadEndpoint(DesiredStates desiredStates, PayloadStore payloads, MasterKey masterKey,
      Enrollment enrollment, SecureRandom random) {
    this.desiredStates = desiredStates;
    this.payloads = payloads;
    this.masterKey = masterKey;
    this.enrollment = enrollment;
    this.random = random;
  }

  @Override
  public void fetch(FetchRequest request, StreamObserver<FetchResponse> responses) {
    String host = Caller.requireHost();
    String deployment = request.getDeployment();
    String sha256 = request.getSha256();
    DesiredAgent agent = desiredStates.find(host, deployment)
        .filter(found -> found.getPayload().getSha256().equals(sha256))
        .orElseThrow(() -> Status.PERMISSION_DENIED.withDescription("host " + host + " may not fetch payload "
            + sha256 + " of deployment " + deployment + ": the deployment is not placed on " + host
            + " with that payload").asRuntimeException());
    var payload = payloads.find(sha256).orElseThrow(() -> Status.NOT_FOUND
        .withDescription("payload " + sha256 + " is not stored").asRuntimeException());
    if (request.getOffset() < 0 || request.getOffset() > payload.ciphertextSize()) {
      throw Status.OUT_OF_RANGE.withDescription("offset " + request.getOffset() + " is outside payload "
          + sha256 + " (ciphertext size " + payload.ciphertextSize() + ")").asRuntimeException();
    }
    HostKeys keys = HostKeys.fromSecret(enrollment.hostSecret(host));
    byte[] dataKey = masterKey.open(payload.dataKeySealed(), PayloadIntake.dataKeyContext(sha256));
    long sequence = agent.getPayload().getSequence();
    FetchHeader header = FetchHeader.newBuilder()
        .setDeployment(deployment)
        .setPayload(agent.getPayload())
        .setCiphertextSize(payload.ciphertextSize())
        .setRecordSize(payload.recordSize())
        .setNoncePrefix(ByteString.copyFrom(payload.noncePrefix()))
        .setWrappedKey(ByteString.copyFrom(KeyWrap.wrap(keys.wrapKey(), new SecretKeySpec(dataKey, "AES"),
            sha256, random)))
        .setHmac(ByteString.copyFrom(PayloadMac.compute(keys.macKey(), deployment, sequence, sha256)))
        .addAllSignatures(agent.getSignaturesList())
        .build();
    java.util.Arrays.fill(dataKey, (byte) 0);

    ServerCallStreamObserver<FetchResponse> out = (ServerCallStreamObserver<FetchResponse>) responses;
    out.onNext(FetchResponse.newBuilder().setHeader(header).build());
    new ChunkPump(out, payloads, sha256, request.getOffset(), payload.ciphertextSize()).start();
  }

  /**
   * Sends messages while the client can take them and resumes when it is ready again, holding
   * one stored chunk row ({@link PayloadStore#CHUNK_BYTES}) at a time.
   */
  private static final class ChunkPump implements Runnable {
    private final ServerCallStreamObserver<FetchResponse> out;
    private final PayloadStore store;
    private final String sha256;
    private final long size;
    private long offset;
    private boolean finished;
    private int rowIndex = -1;
    private byte[] row;

    ChunkPump(ServerCallStreamObserver<FetchResponse> out, PayloadStore store, String sha256, long offset,
        long size) {
      this.out = out;
      this.store = store;
      this.sha256 = sha256;
      this.offset = offset;
      this.size = size;
    }

    void start() {
      out.setOnCancelHandler(this::close);
      out.setOnReadyHandler(this);
      run();
    }

    /** {@code length} bytes from {@code offset}, from the stored rows. */
    private ByteString read(long at, int length) throws IOException {
      ByteString.Output bytes = ByteString.newOutput(length);
      while (bytes.size() < length) {
        long position = at + bytes.size();
        int index = (int) (position / PayloadStore.CHUNK_BYTES);
        if (index != rowIndex) {
          row = store.chunk(sha256, index).orElseThrow(() -> new IOException(
              "ciphertext ends early at " + position + " (chunk " + index + " is not stored)"));
          rowIndex = index;
        }
        int from = (int) (position - (long) index * PayloadStore.CHUNK_BYTES);
        if (from >= row.length) {
          throw new IOException("ciphertext ends early at " + position + " (chunk " + index + " holds "
              + row.length + " bytes)");
        }
        bytes.write(row, from, Math.min(row.length - from, length - bytes.size()));
      }
      return bytes.toByteString();
    }

    @Override
    public synchronized void run() {
      if (finished) {
        return;
      }
      try {
        while (out.isReady() && offset < size) {
          ByteString data = read(offset, (int) Math.min(CHUNK_BYTES, size - offset));
          out.onNext(FetchResponse.newBuilder()
              .setChunk(PayloadChunk.newBuilder().setOffset(offset).setData(data))
              .build());
          offset += data.size();
        }
        if (offset >= size) {
          finished = true;
          close();
          out.onCompleted();
        }
      } catch (IOException | RuntimeException e) {
        finished = true;
        close();
        out.onError(Status.INTERNAL.withDescription("reading payload ciphertext failed: " + e.getMessage())
            .asRuntimeException());
      }
    }

    private synchronized void close() {
      row = null; // nothing else to release: each row is read in its own statement
    }
  }
}
