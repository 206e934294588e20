package io.infraveil.controlplane.auth;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open calls by certificate serial, so that revoking a certificate cuts its holder off at
 * once, long-lived streams included.
 */
@Singleton
public final class OpenStreams {

  private final Map<String, Set<GuardedServerCall<?, ?>>> bySerial = new ConcurrentHashMap<>();

  void register(String serial, GuardedServerCall<?, ?> call) {
    bySerial.computeIfAbsent(serial, key -> ConcurrentHashMap.newKeySet()).add(call);
  }

  void unregister(String serial, GuardedServerCall<?, ?> call) {
    bySerial.computeIfPresent(serial, (key, calls) -> {
      calls.remove(call);
      return calls.isEmpty() ? null : calls;
    });
  }

  /** Closes every open call made with the certificate; returns how many were closed. */
  public int closeAll(String serial, String why) {
    Set<GuardedServerCall<?, ?>> calls = bySerial.remove(serial);
    if (calls == null) {
      return 0;
    }
    int closed = 0;
    for (GuardedServerCall<?, ?> call : calls) {
      if (call.closeIfOpen(Status.PERMISSION_DENIED.withDescription(why))) {
        closed++;
      }
    }
    return closed;
  }

  /**
   * Closes every long-lived call (streams in both or the server's direction, and client streams
   * such as ShipLogs) with UNAVAILABLE, so a stopping control plane does not wait out its
   * drain deadline for streams that never end; hosts reconnect with their usual backoff.
   * Uploads are left to finish within that deadline. Returns how many were closed.
   */
  public int closeLongLived(String why) {
    int closed = 0;
    for (Set<GuardedServerCall<?, ?>> calls : bySerial.values()) {
      for (GuardedServerCall<?, ?> call : calls) {
        var method = call.getMethodDescriptor();
        boolean longLived = method.getType() != MethodDescriptor.MethodType.UNARY
            && !UPLOADS.contains(method.getFullMethodName());
        if (longLived && call.closeIfOpen(Status.UNAVAILABLE.withDescription(why))) {
          closed++;
        }
      }
    }
    return closed;
  }

  /** Client streams that end on their own once their data is sent. */
  private static final Set<String> UPLOADS = Set.of(
      io.infraveil.proto.v1.OperatorServiceGrpc.getUploadPayloadMethod().getFullMethodName());

  public int count() {
    return bySerial.values().stream().mapToInt(Set::size).sum();
  }
}
