package io.infraveil.host.payload;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.FetchRequest;
import io.infraveil.proto.v1.FetchResponse;
import io.infraveil.proto.v1.PayloadChunk;
import io.infraveil.proto.v1.PayloadServiceGrpc;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves sealed payloads the way the control plane does: header, then ciphertext from the
 * requested offset in chunks. Can cut the next stream after N bytes.
 */
final class FakePayloadService extends PayloadServiceGrpc.PayloadServiceImplBase {

  static final int CHUNK = 8192;

  /** What one (deployment, sha) request is answered with. */
  record Served(FetchHeader header, byte[] ciphertext) {}

  private final Map<String, Served> served = new ConcurrentHashMap<>();
  final List<FetchRequest> requests = new CopyOnWriteArrayList<>();
  /** When >= 0, the next stream fails with UNAVAILABLE after this many ciphertext bytes. */
  final AtomicLong cutNextAfter = new AtomicLong(-1);

  void serve(String deployment, String sha, FetchHeader header, byte[] ciphertext) {
    served.put(deployment + "/" + sha, new Served(header, ciphertext.clone()));
  }

  @Override
  public void fetch(FetchRequest request, StreamObserver<FetchResponse> out) {
    requests.add(request);
    Served s = served.get(request.getDeployment() + "/" + request.getSha256());
    if (s == null) {
      out.onError(Status.NOT_FOUND.withDescription("no such payload").asRuntimeException());
      return;
    }
    out.onNext(FetchResponse.newBuilder().setHeader(s.header()).build());
    long cut = cutNextAfter.getAndSet(-1);
    long sent = 0;
    for (int off = (int) request.getOffset(); off < s.ciphertext().length; off += CHUNK) {
      if (cut >= 0 && sent >= cut) {
        out.onError(Status.UNAVAILABLE.withDescription("connection cut").asRuntimeException());
        return;
      }
      int len = Math.min(CHUNK, s.ciphertext().length - off);
      out.onNext(FetchResponse.newBuilder().setChunk(PayloadChunk.newBuilder().setOffset(off)
          .setData(ByteString.copyFrom(s.ciphertext(), off, len))).build());
      sent += len;
    }
    out.onCompleted();
  }
}
