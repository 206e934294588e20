package io.infraveil.controlplane.auth;

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

  public int count() {
    return bySerial.values().stream().mapToInt(Set::size).sum();
  }
}
