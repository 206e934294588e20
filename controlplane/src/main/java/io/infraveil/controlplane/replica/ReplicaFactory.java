package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.store.Jdbc;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

/** The lease, the leadership over it and the replica table, from settings. */
@Factory
final class ReplicaFactory {

  @Singleton
  LeaderLease leaderLease(Jdbc jdbc, ReplicaSettings settings) {
    return new LeaderLease(jdbc, settings.leaderLeaseTtl());
  }

  @Singleton
  @Bean(preDestroy = "close")
  Leadership leadership(LeaderLease lease, ReplicaSettings settings) {
    return new Leadership(lease, settings.leaderLeaseTtl(), settings.leaderLeaseRenewInterval(), System::nanoTime);
  }

  @Singleton
  ReplicaRegistry replicaRegistry(Jdbc jdbc, ReplicaSettings settings) {
    return new ReplicaRegistry(jdbc, settings.replicaGoneAfter());
  }
}
