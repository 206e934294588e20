package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.devpostgres.LocalPostgres;
import io.infraveil.proto.v1.PutDeploymentRequest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The replica contract on one real PostgreSQL (dev-postgres) shared by three control planes:
 * changes arrive by notification, within a second; and a replica whose listener connection is
 * terminated still gets the change (polling, then a new listener) without a restart.
 */
class ReplicaChangesOnPostgresTest extends ReplicaChangesContract {

  private LocalPostgres.Database database;

  @Override
  Map<String, Object> sharedDatabase() {
    if (database == null) {
      database = LocalPostgres.shared().newDatabase();
    }
    return Map.of(
        "datasources.default.url", database.jdbcUrl(),
        "datasources.default.username", database.user(),
        "datasources.default.password", database.password(),
        "datasources.default.driver-class-name", "org.postgresql.Driver");
  }

  @Override
  Duration propagationBound() {
    return Duration.ofSeconds(1);
  }

  @Test
  void aReplicaWhoseListenerWasKilledStillGetsTheChange() throws Exception {
    OpsHarness.EnrolledHost web5 = a.enroll("web-5");
    SyncStream onC = syncOn(c, web5);
    awaitListener(true);
    try (Connection connection = database.connect(); Statement s = connection.createStatement()) {
      s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
          + " WHERE application_name = 'infraveil-change-listener c'");
    }
    String v1 = upload(a, "v1");
    a.operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello").setPayloadSha256(v1)
        .addHosts("web-5").build());
    onC.awaitDesired(state -> state.getAgentsCount() == 1, Duration.ofSeconds(10));

    awaitListener(true);
    String v2 = upload(a, "v2");
    long start = System.nanoTime();
    a.operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello").setPayloadSha256(v2)
        .addHosts("web-5").build());
    onC.awaitDesired(state -> state.getAgentsCount() == 1
        && state.getAgents(0).getPayload().getSha256().equals(v2), Duration.ofSeconds(10));
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(millis <= propagationBound().toMillis(), "notified again once the listener is back: " + millis + " ms");
  }

  private void awaitListener(boolean present) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      try (Connection connection = database.connect(); Statement s = connection.createStatement();
          ResultSet r = s.executeQuery("SELECT COUNT(*) FROM pg_stat_activity"
              + " WHERE application_name = 'infraveil-change-listener c'")) {
        r.next();
        if (r.getInt(1) > 0 == present) {
          return;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("replica c's change listener should be connected");
  }
}
