package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.sync.SyncSessions;
import jakarta.inject.Singleton;

/**
 * Hosts held, from this replica's own open Sync streams; for another replica, the count it
 * last wrote in its row of {@code control_plane_replicas} (at most one heartbeat old). Public so
 * that a bean answering from shared live state can declare {@code @Replaces(StreamHostsHeld.class)}.
 */
@Singleton
public final class StreamHostsHeld implements HostsHeld {

  private final Replicas replicas;
  private final SyncSessions syncSessions;

  StreamHostsHeld(Replicas replicas, SyncSessions syncSessions) {
    this.replicas = replicas;
    this.syncSessions = syncSessions;
  }

  @Override
  public int hostsHeldBy(String replica) {
    if (replica.equals(replicas.name())) {
      return syncSessions.connectedCount();
    }
    return replicas.lastSeen().stream().filter(row -> row.name().equals(replica) && !row.gone())
        .mapToInt(ReplicaRegistry.Row::hostsHeld).findFirst().orElse(0);
  }
}
