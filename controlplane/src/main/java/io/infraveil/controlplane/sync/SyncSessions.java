package io.infraveil.controlplane.sync;

import io.grpc.Status;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.grpc.SerializedObserver;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.SyncResponse;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open Sync stream of each host (at most one: a newer stream replaces an older one), and
 * the push of desired states to them the moment they change.
 */
@Singleton
public final class SyncSessions {

  private final Map<String, SerializedObserver<SyncResponse>> open = new ConcurrentHashMap<>();

  public SyncSessions(DesiredStates desiredStates) {
    desiredStates.addListener(this::push);
  }

  void register(String host, SerializedObserver<SyncResponse> stream) {
    SerializedObserver<SyncResponse> previous = open.put(host, stream);
    if (previous != null && previous != stream) {
      previous.onError(Status.ABORTED.withDescription("a newer Sync stream of host " + host
          + " replaced this one").asRuntimeException());
    }
  }

  void unregister(String host, SerializedObserver<SyncResponse> stream) {
    open.remove(host, stream);
  }

  public boolean isConnected(String host) {
    return open.containsKey(host);
  }

  public int connectedCount() {
    return open.size();
  }

  private void push(String host, DesiredState state) {
    SerializedObserver<SyncResponse> stream = open.get(host);
    if (stream != null) {
      stream.onNext(SyncResponse.newBuilder().setDesired(state).build());
    }
  }
}
