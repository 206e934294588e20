package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.proto.v1.DesiredState;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A control plane recomputes every desired state at start: a deployment change stored without
 * its recompute (by another control plane that died in between, or an older release) reaches
 * its hosts under a new revision, and a start with nothing changed bumps nothing.
 */
class RecomputeAtStartTest {

  @TempDir
  Path dir;

  @Test
  void aChangeStoredWithoutItsRecomputeReachesTheHostAtTheNextStart() throws Exception {
    DesiredState before;
    try (OpsHarness harness = new OpsHarness(dir, Map.of())) {
      harness.enroll("web-1");
      harness.deploy("web", "v1", "web-1");
      before = harness.controlPlane.bean(DesiredStates.class).reload("web-1");
    }
    try (OpsHarness again = new OpsHarness(dir, Map.of())) {
      assertEquals(before.getRevision(), again.controlPlane.bean(DesiredStates.class).reload("web-1").getRevision(),
          "nothing changed: no new revision");
    }
    try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("data/controlplane").toAbsolutePath(),
        "sa", "")) {
      assertEquals(1, c.createStatement().executeUpdate(
          "UPDATE deployments SET generation = generation + 1 WHERE name = 'web'"));
    }

    try (OpsHarness after = new OpsHarness(dir, Map.of())) {
      DesiredState now = after.controlPlane.bean(DesiredStates.class).reload("web-1");
      assertEquals(before.getRevision() + 1, now.getRevision());
      assertEquals(before.getAgents(0).getGeneration() + 1, now.getAgents(0).getGeneration());
    }
  }
}
