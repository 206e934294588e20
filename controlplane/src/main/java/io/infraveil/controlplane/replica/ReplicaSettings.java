package io.infraveil.controlplane.replica;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.bind.annotation.Bindable;
import java.time.Duration;

/**
 * How this control plane takes part in a set of replicas sharing one database
 * ({@code infraveil.*}). One control plane alone is a set of one: it takes the lease at start.
 *
 * @param replicaAddress the gRPC address other replicas and operators reach this one at; empty
 *     means {@code <hostname>:<grpc port>}
 * @param leaderLeaseTtl how long the leader lease lasts without a renewal; a dead leader's work
 *     moves after at most this plus {@code leader-lease-renew-interval}
 * @param leaderLeaseRenewInterval how often the leader renews the lease and the others try to take it
 * @param replicaHeartbeatInterval how often a replica writes that it is alive (and how many hosts it holds)
 * @param replicaGoneAfter a replica not seen for this long is shown as gone
 */
@ConfigurationProperties("infraveil")
public record ReplicaSettings(
    @Bindable(defaultValue = "") String replicaAddress,
    @Bindable(defaultValue = "10s") Duration leaderLeaseTtl,
    @Bindable(defaultValue = "3s") Duration leaderLeaseRenewInterval,
    @Bindable(defaultValue = "5s") Duration replicaHeartbeatInterval,
    @Bindable(defaultValue = "30s") Duration replicaGoneAfter) {

  public ReplicaSettings {
    replicaAddress = replicaAddress == null ? "" : replicaAddress.strip();
    requirePositive("infraveil.leader-lease-ttl", leaderLeaseTtl);
    requirePositive("infraveil.leader-lease-renew-interval", leaderLeaseRenewInterval);
    requirePositive("infraveil.replica-heartbeat-interval", replicaHeartbeatInterval);
    requirePositive("infraveil.replica-gone-after", replicaGoneAfter);
    if (leaderLeaseRenewInterval.multipliedBy(2).compareTo(leaderLeaseTtl) > 0) {
      throw new IllegalArgumentException("infraveil.leader-lease-renew-interval (" + leaderLeaseRenewInterval
          + ") must be at most half of infraveil.leader-lease-ttl (" + leaderLeaseTtl
          + "), so that one missed renewal does not lose the lease");
    }
  }

  private static void requirePositive(String name, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be a positive duration, got " + value);
    }
  }

  /** The SQL interval literal of a duration, in seconds with milliseconds (same text on H2 and PostgreSQL). */
  static String sqlSeconds(Duration duration) {
    long millis = duration.toMillis();
    return "INTERVAL '" + (millis / 1000) + "." + String.format(java.util.Locale.ROOT, "%03d", millis % 1000)
        + "' SECOND";
  }
}
