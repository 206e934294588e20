package io.infraveil.controlplane.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.ControlPlane;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The replica contract on H2 served over TCP; and a lone control plane on its own H2 file. */
class ControlPlaneReplicasH2Test extends ControlPlaneReplicasContract {

  SharedH2 h2;

  @Override
  Map<String, Object> database() throws Exception {
    h2 = new SharedH2(dir.resolve("db"));
    return h2.datasource();
  }

  @Override
  void closeDatabase() {
    h2.close();
  }

  // A control plane alone on its embedded H2 file, killed without giving the lease up and
  // started again under another name (another port), leads at once: the file admits one
  // process, so the old holder is dead and nothing waits for its lease to run out.
  @Test
  void aLoneControlPlaneRestartedAfterACrashLeadsAtOnce() {
    Map<String, Object> tenMinutes = Map.of("infraveil.leader-lease-ttl", "10m",
        "infraveil.leader-lease-renew-interval", "1m");
    ControlPlane first = ControlPlane.start(dir.resolve("alone"), dir.resolve("pki"), 0, tenMinutes);
    started.add(first);
    assertTrue(leads(first));
    first.bean(Replicas.class).abandon();
    first.close();
    ControlPlane second = ControlPlane.start(dir.resolve("alone"), dir.resolve("pki"), 0, tenMinutes);
    started.add(second);
    assertTrue(leads(second), "the dead holder's 10 min lease does not hold a sole process back");
    assertEquals(second.bean(Replicas.class).name(), second.bean(Leadership.class).holder().orElseThrow().name());
  }

  @Test
  void onlyAnEmbeddedH2FileOrMemoryIsASoleProcessDatabase() {
    assertTrue(Replicas.soleProcess("jdbc:h2:file:/var/lib/infraveil/controlplane;WRITE_DELAY=0"));
    assertTrue(Replicas.soleProcess("jdbc:h2:mem:test"));
    assertFalse(Replicas.soleProcess("jdbc:h2:file:/data/cp;AUTO_SERVER=TRUE"));
    assertFalse(Replicas.soleProcess("jdbc:h2:tcp://db:9092/cp"));
    assertFalse(Replicas.soleProcess("jdbc:postgresql://db:5432/infraveil"));
    assertFalse(Replicas.soleProcess(""));
  }}
