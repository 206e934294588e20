package io.infraveil.controlplane.replica;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.bind.annotation.Bindable;
import java.time.Duration;

/**
 * How replicas sharing one database learn each other's changes ({@code infraveil.replication.*}).
 *
 * @param changePollInterval how often the change log is read when no notification came (the
 *     fallback that catches a missed one; on H2 the only way another process's change arrives)
 * @param changeRetention how long rows of the change log are kept
 * @param presenceInterval how often the hosts this replica holds and their last reports are
 *     written to the database, and those of other replicas read from it
 */
@ConfigurationProperties("infraveil.replication")
public record ReplicationSettings(
    @Bindable(defaultValue = "2s") Duration changePollInterval,
    @Bindable(defaultValue = "10m") Duration changeRetention,
    @Bindable(defaultValue = "1s") Duration presenceInterval) {}
