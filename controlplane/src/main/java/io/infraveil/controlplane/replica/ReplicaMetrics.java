package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.ops.Metrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Context;

/**
 * {@code infraveil_controlplane_replica_*}: this replica's role, its lease hand-overs, the
 * hosts it holds, and the replicas it saw at its last heartbeat.
 */
@Context
final class ReplicaMetrics {

  ReplicaMetrics(Metrics metrics, Leadership leadership, Replicas replicas, HostsHeld hostsHeld) {
    MeterRegistry registry = metrics.registry();
    Gauge.builder("infraveil.controlplane.replica.role", leadership, l -> l.isLeader() ? 1 : 0)
        .description("1 for this replica's role now (leader or follower), 0 for the other")
        .tag("role", Replicas.LEADER).strongReference(true).register(registry);
    Gauge.builder("infraveil.controlplane.replica.role", leadership, l -> l.isLeader() ? 0 : 1)
        .description("1 for this replica's role now (leader or follower), 0 for the other")
        .tag("role", Replicas.FOLLOWER).strongReference(true).register(registry);
    FunctionCounter.builder("infraveil.controlplane.replica.lease.handovers", leadership, Leadership::gainedCount)
        .description("Leader lease hand-overs on this replica: times it took the lease, and times it lost it")
        .tag("change", "gained").register(registry);
    FunctionCounter.builder("infraveil.controlplane.replica.lease.handovers", leadership, Leadership::lostCount)
        .description("Leader lease hand-overs on this replica: times it took the lease, and times it lost it")
        .tag("change", "lost").register(registry);
    for (String work : Leadership.LEADER_WORK) {
      FunctionCounter.builder("infraveil.controlplane.replica.leader.rounds", leadership, l -> l.rounds(work))
          .description("Rounds of leader-only work this replica ran (incident rules, rollout rounds, history"
              + " pruning); they grow on the leader only").tag("work", work).register(registry);
    }
    Gauge.builder("infraveil.controlplane.replica.hosts.held", hostsHeld, h -> h.hostsHeldBy(replicas.name()))
        .description("Hosts whose Sync stream this replica holds").strongReference(true).register(registry);
    Gauge.builder("infraveil.controlplane.replica.peers", replicas,
            r -> r.lastSeen().stream().filter(row -> !row.gone()).count())
        .description("Replicas in the replica table at the last heartbeat, by state (live or gone), this one included").tag("state", "live")
        .strongReference(true).register(registry);
    Gauge.builder("infraveil.controlplane.replica.peers", replicas,
            r -> r.lastSeen().stream().filter(ReplicaRegistry.Row::gone).count())
        .description("Replicas in the replica table at the last heartbeat, by state (live or gone), this one included").tag("state", "gone")
        .strongReference(true).register(registry);
  }
}
