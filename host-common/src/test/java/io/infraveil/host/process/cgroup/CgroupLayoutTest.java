package io.infraveil.host.process.cgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupLayoutTest {

  // A root without any hierarchy means process groups only, and the reason says where it looked.
  @Test
  void fallsBackToProcessGroupsWithoutAHierarchy(@TempDir Path root) {
    CgroupLayout layout = CgroupLayout.detect(root);
    assertEquals(CgroupLayout.Mode.NONE, layout.mode());
    assertFalse(layout.tracks());
    assertTrue(layout.description().startsWith("process groups only: no cgroup hierarchy found at "
        + root), layout.description());
    Cgroups cgroups = new Cgroups(layout, root.resolve("data"));
    assertEquals(0, cgroups.deploymentCgroups("web").size());
    assertEquals(0, cgroups.killDeployment("web", "TERM", java.time.Duration.ZERO).cgroups());
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> cgroups.service("web", "api", 0));
    assertTrue(e.getMessage().startsWith("no writable cgroup hierarchy"), e.getMessage());
  }

  // This machine's layout is detected once and is what the docs describe (hybrid or v2 here).
  @Test
  void detectsThisMachinesLayoutOnce() {
    CgroupLayout layout = CgroupLayout.system();
    assertTrue(layout == CgroupLayout.system());
    System.out.println("cgroup layout here: " + layout);
  }
}
