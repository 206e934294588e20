package io.infraveil.controlplane.sync;

import io.grpc.Status;
import io.infraveil.controlplane.grpc.SerializedObserver;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.SyncResponse;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open Sync stream of each host held by this replica (at most one: a newer stream replaces
 * an older one), and the push of desired states to them. Pushes come from the change feed,
 * whichever replica made the change; each stream gets a revision once, in growing order.
 */
@Singleton
public final class SyncSessions {

  /** One open stream and the highest revision it was sent (or held at hello). */
  private static final class Held {
    final SerializedObserver<SyncResponse> stream;
    /** Guarded by this. */
    long sent;

    Held(SerializedObserver<SyncResponse> stream, long sent) {
      this.stream = stream;
      this.sent = sent;
    }
  }

  private final Map<String, Held> open = new ConcurrentHashMap<>();

  void register(String host, SerializedObserver<SyncResponse> stream, long heldRevision) {
    Held previous = open.put(host, new Held(stream, heldRevision));
    if (previous != null && previous.stream != stream) {
      previous.stream.onError(Status.ABORTED.withDescription("a newer Sync stream of host " + host
          + " replaced this one").asRuntimeException());
    }
  }

  void unregister(String host, SerializedObserver<SyncResponse> stream) {
    open.computeIfPresent(host, (name, held) -> held.stream == stream ? null : held);
  }

  public boolean isConnected(String host) {
    return open.containsKey(host);
  }

  public int connectedCount() {
    return open.size();
  }

  /** The hosts whose Sync stream this replica holds. */
  public Set<String> connectedHosts() {
    return Set.copyOf(open.keySet());
  }

  /**
   * Sends {@code state} on the host's stream when this replica holds it and the launcher has
   * not been sent this revision or a newer one. True when sent.
   */
  public boolean pushIfNewer(String host, DesiredState state) {
    Held held = open.get(host);
    if (held == null) {
      return false;
    }
    synchronized (held) {
      if (state.getRevision() <= held.sent) {
        return false;
      }
      held.sent = state.getRevision();
      held.stream.onNext(SyncResponse.newBuilder().setDesired(state).build());
      return true;
    }
  }
}
