package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.process.cgroup.CgroupLayout;
import io.infraveil.host.process.cgroup.Cgroups;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where no cgroup hierarchy is writable: process groups, and the heartbeat says why. */
class ContainmentTest {

  @TempDir Path tmp;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);

  @AfterEach
  void tearDown() {
    scheduler.shutdownNow();
  }

  // A host without cgroups still runs and stops services by process group, and every snapshot
  // (so every heartbeat) says containment is by process groups only, and why.
  @Test
  void withoutCgroupsServicesRunInProcessGroupsAndTheSnapshotSaysWhy() throws Exception {
    Path noCgroups = Files.createDirectories(tmp.resolve("no-cgroupfs"));
    Containment containment = new Containment(
        new Cgroups(CgroupLayout.detect(noCgroups), tmp.resolve("data")), "dep");
    assertFalse(containment.tracks());
    Path release = Files.createDirectories(tmp.resolve("release"));
    Files.writeString(release.resolve("config.yaml"), """
        services:
          api:
            run: { start: [ "exec sleep 300" ] }
            stop_timeout: 1s
        """);
    AgentSettings settings = AgentSettings.defaults().withStartWatch(Duration.ofMillis(300))
        .withTick(Duration.ofMillis(50));
    try (Supervisor s = new Supervisor(tmp.resolve("agent"), sha -> release, settings,
        Clock.systemUTC(), scheduler, new InMemoryAgentStateStore(), containment)) {
      s.start("d".repeat(64));
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (s.snapshot().service("api").orElseThrow().state() != ServiceState.RUNNING
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      AgentSnapshot.ServiceSnapshot api = s.snapshot().service("api").orElseThrow();
      assertEquals(ServiceState.RUNNING, api.state());
      assertEquals(1, api.processes().size());
      long pid = api.processes().get(0).pid();
      assertEquals("process groups only: no cgroup hierarchy found at " + noCgroups
          + "; daemonizing start commands escape supervision and resources limits are not"
          + " enforced", s.snapshot().containment());
      s.stop();
      assertTrue(ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }
  }
}
