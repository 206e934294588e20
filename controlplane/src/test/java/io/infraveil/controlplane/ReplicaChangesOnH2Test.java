package io.infraveil.controlplane;

import java.time.Duration;
import java.util.Map;

/**
 * The replica contract on one H2 file shared by three control planes in this JVM. H2 is the
 * single-node engine and has no notifications: this runs the polling path alone (every
 * 200 ms here), the one that catches a missed notification on PostgreSQL.
 */
class ReplicaChangesOnH2Test extends ReplicaChangesContract {

  @Override
  Map<String, Object> sharedDatabase() {
    return Map.of(
        "datasources.default.url", "jdbc:h2:file:" + dir.resolve("shared").toAbsolutePath()
            + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0",
        "infraveil.replication.change-poll-interval", "200ms");
  }

  @Override
  Duration propagationBound() {
    return Duration.ofSeconds(3); // a 200 ms poll, and the call itself on two busy cores
  }
}
