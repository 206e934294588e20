package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.proto.v1.ControlPlaneReplica;
import io.infraveil.proto.v1.ControlPlaneReplicaRole;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicas as operators see them (GetStatus, the operations API, {@code ctl status}): the
 * leader is the live holder of the lease by the database, not what a row last said.
 */
@Singleton
public final class ReplicaViews {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicaViews.class);

  private final Replicas replicas;
  private final Leadership leadership;
  private final HostsHeld hostsHeld;

  public ReplicaViews(Replicas replicas, Leadership leadership, HostsHeld hostsHeld) {
    this.replicas = replicas;
    this.leadership = leadership;
    this.hostsHeld = hostsHeld;
  }

  /** This replica's name. */
  public String self() {
    return replicas.name();
  }

  /** Every replica; from the last heartbeat's read when the database does not answer now. */
  public List<ControlPlaneReplica> all() {
    List<ReplicaRegistry.Row> rows;
    Optional<LeaderLease.Holder> holder;
    try {
      rows = replicas.readAll();
      holder = leadership.holder().filter(LeaderLease.Holder::live);
    } catch (RuntimeException e) {
      LOG.warn("replicas_unread error={}; showing the last read", e.getMessage());
      rows = replicas.lastSeen();
      holder = Optional.empty();
    }
    List<ControlPlaneReplica> out = new ArrayList<>(rows.size());
    for (ReplicaRegistry.Row row : rows) {
      boolean leads = holder.isPresent() && holder.get().name().equals(row.name()) && !row.gone();
      ControlPlaneReplicaRole role = row.gone() ? ControlPlaneReplicaRole.CONTROL_PLANE_REPLICA_ROLE_GONE
          : leads ? ControlPlaneReplicaRole.CONTROL_PLANE_REPLICA_ROLE_LEADER
          : ControlPlaneReplicaRole.CONTROL_PLANE_REPLICA_ROLE_FOLLOWER;
      out.add(ControlPlaneReplica.newBuilder()
          .setName(row.name())
          .setGrpcAddress(row.grpcAddress())
          .setRole(role)
          .setHostsHeld(row.gone() ? 0 : hostsHeld.hostsHeldBy(row.name()))
          .setStartedAt(ProtoTime.timestamp(row.startedAt()))
          .setSeenAt(ProtoTime.timestamp(row.seenAt()))
          .setLeaderTerm(leads ? holder.get().term() : 0)
          .build());
    }
    return out;
  }
}
