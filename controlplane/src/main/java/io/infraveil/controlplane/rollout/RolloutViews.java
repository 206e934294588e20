package io.infraveil.controlplane.rollout;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.incidents.Incidents;
import io.infraveil.controlplane.incidents.Rule;
import io.infraveil.proto.v1.HostConnection;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.RolloutHost;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.function.Supplier;
import java.time.Instant;

/** Rollouts as the API shows them: stored facts joined with host liveness and incidents. */
@Singleton
final class RolloutViews {

  private final HostLiveness liveness;
  private final Supplier<List<Incident>> incidents;

  @Inject
  RolloutViews(HostLiveness liveness, Incidents incidents) {
    this(liveness, () -> incidents.list(false));
  }

  /** @param incidents open and recently resolved incidents, newest first */
  RolloutViews(HostLiveness liveness, Supplier<List<Incident>> incidents) {
    this.liveness = liveness;
    this.incidents = incidents;
  }

  io.infraveil.proto.v1.Rollout view(Rollout r, boolean paused, boolean withHosts) {
    io.infraveil.proto.v1.Rollout.Builder out = io.infraveil.proto.v1.Rollout.newBuilder()
        .setId(r.id())
        .setDeployment(r.deployment())
        .setOrigin(r.origin())
        .setPayload(ref(r.target()))
        .setStrategy(r.strategy().toProto())
        .setState(r.phase().toProto())
        .setPaused(paused && !r.phase().terminal())
        .setBatch(r.batch())
        .setBatches(batches(r))
        .setReason(r.reason() == null ? "" : r.reason())
        .setStartedBy(r.startedBy())
        .setStartedAt(ProtoTime.timestamp(r.startedAt()));
    if (r.revertTo() != null) {
      out.setRevertTo(ref(r.revertTo()));
    }
    if (r.finishedAt() != null) {
      out.setFinishedAt(ProtoTime.timestamp(r.finishedAt()));
    }
    if (r.phase() == Phase.FAILED || r.phase() == Phase.REVERTED) {
      out.setIncidentId(incidentOf(r.deployment(), r.finishedAt()));
    }
    if (withHosts) {
      for (RolloutHostEntry h : r.hosts()) {
        RolloutHost.Builder host = RolloutHost.newBuilder()
            .setHostName(h.host())
            .setState(h.phase().toProto())
            .setBatch(h.batch())
            .setCanary(h.canary())
            .setDetail(h.detail())
            .setOnline(online(h.host()));
        if (h.movedAt() != null) {
          host.setMovedAt(ProtoTime.timestamp(h.movedAt()));
        }
        if (h.healthySince() != null) {
          host.setHealthySince(ProtoTime.timestamp(h.healthySince()));
        }
        if (h.finishedAt() != null) {
          host.setFinishedAt(ProtoTime.timestamp(h.finishedAt()));
        }
        out.addHosts(host);
      }
    }
    return out.build();
  }

  /** A first version goes to every host at once: one batch; else what the strategy makes. */
  private static int batches(Rollout r) {
    boolean allAtOnce = r.revertTo() == null && r.hosts().stream().allMatch(h -> h.batch() == 1);
    return allAtOnce ? 1 : r.strategy().batches(r.hosts().size());
  }

  private boolean online(String host) {
    HostConnection c = liveness.connection(host);
    return c == HostConnection.HOST_CONNECTION_ONLINE || c == HostConnection.HOST_CONNECTION_DETACHED;
  }

  /** The ROLLOUT_FAILED incident opened for this failure, newest first; empty until it opens. */
  private String incidentOf(String deployment, Instant failedAt) {
    for (Incident i : incidents.get()) {
      if (i.getRule().equals(Rule.ROLLOUT_FAILED.name()) && i.getDeployment().equals(deployment)
          && (failedAt == null || !ProtoTime.instant(i.getOpenedAt()).isBefore(failedAt.minusSeconds(1)))) {
        return i.getId();
      }
    }
    return "";
  }

  private static PayloadRef ref(Rollout.Version v) {
    return PayloadRef.newBuilder().setSha256(v.sha256()).setSequence(v.sequence()).setVersion(v.label()).build();
  }
}
