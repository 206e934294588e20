package io.infraveil.host.process.cgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.infraveil.host.process.ProcessGroups;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real cgroups on this machine; skipped (saying why) only where no hierarchy is writable. */
class ServiceCgroupTest {

  @TempDir
  Path dir;
  private Cgroups cgroups;

  @BeforeEach
  void needsCgroups() {
    CgroupLayout layout = CgroupLayout.system();
    assumeTrue(layout.tracks(), "skipped: no writable cgroup hierarchy here: "
        + layout.description());
    cgroups = new Cgroups(layout, dir.resolve("data"));
  }

  @AfterEach
  void removeCgroups() {
    if (cgroups != null) {
      Cgroups.KillReport report = cgroups.killDeployment("dep", "KILL", Duration.ZERO);
      assertEquals(List.of(), report.leftOver());
    }
  }

  private Process start(ServiceCgroup cgroup, String command) throws Exception {
    return ProcessGroups.startInNewSession(
        ContainedCommand.shell(command, Optional.of(cgroup), Optional.empty()), dir, Map.of(),
        dir.resolve("out.log"), dir.resolve("err.log"));
  }

  private static void awaitPids(ServiceCgroup cgroup, int count) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (cgroup.pids().size() < count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(cgroup.pids().size() >= count, "expected " + count + " processes in " + cgroup
        + ", found " + cgroup.pids());
  }

  // A double-forked daemon (new session, parent gone) stays in the cgroup and dies at stop.
  @Test
  void doubleForkedDaemonIsTrackedAndStopped() throws Exception {
    ServiceCgroup cgroup = cgroups.service("dep", "web", 0);
    cgroup.create(CgroupLimits.NONE);
    Process starter = start(cgroup, "(setsid sleep 300 &) ; exit 0");
    assertEquals(0, starter.waitFor());
    awaitPids(cgroup, 1);
    long daemon = cgroup.pids().get(0);
    assertTrue(ProcessHandle.of(daemon).orElseThrow().isAlive());
    assertTrue(cgroup.populated());

    assertEquals(ServiceCgroup.StopOutcome.EXITED_ON_SIGNAL, cgroup.stop("TERM",
        Duration.ofSeconds(5)));
    assertFalse(cgroup.populated());
    assertEquals(List.of(), cgroup.pids());
    assertTrue(gone(daemon), "daemon " + daemon + " still alive");
  }

  /** True once no live process has the pid (its reaper may take a moment). */
  static boolean gone(long pid) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(10);
    }
    return true;
  }

  // A service that ignores SIGTERM (children too) is killed after the grace period.
  @Test
  void processesIgnoringTermAreKilledAfterGrace() throws Exception {
    ServiceCgroup cgroup = cgroups.service("dep", "stubborn", 0);
    cgroup.create(CgroupLimits.NONE);
    Process main = start(cgroup, "trap '' TERM; sleep 300 & sleep 300 & wait");
    awaitPids(cgroup, 3);

    assertEquals(ServiceCgroup.StopOutcome.KILLED, cgroup.stop("TERM", Duration.ofMillis(300)));
    assertFalse(cgroup.populated());
    assertTrue(main.waitFor(5, java.util.concurrent.TimeUnit.SECONDS));
    assertEquals(137, main.exitValue());
  }

  // A memory limit is enforced: a process allocating past it is OOM-killed and counted.
  @Test
  void memoryLimitOomKillsAndCounts() throws Exception {
    ServiceCgroup cgroup = cgroups.service("dep", "leaky", 0);
    cgroup.create(new CgroupLimits(OptionalLong.of(16L << 20), OptionalDouble.empty(),
        OptionalLong.empty()));
    assertEquals(0, cgroup.oomKills());
    Process leaky = start(cgroup, "x=$(head -c 67108864 /dev/zero | tr '\\0' a); sleep 300");
    assertTrue(leaky.waitFor(20, java.util.concurrent.TimeUnit.SECONDS));
    assertTrue(cgroup.awaitEmpty(Duration.ofSeconds(10)) || cgroup.stop("KILL", Duration.ZERO)
        != ServiceCgroup.StopOutcome.LEFT_OVER);
    assertTrue(cgroup.oomKills() >= 1, "oom kills: " + cgroup.oomKills());
  }

  // Limits reach the kernel files of the layout in use, and "no limit" clears them again.
  @Test
  void limitsAreWrittenAndCleared() throws Exception {
    ServiceCgroup cgroup = cgroups.service("dep", "limited", 1);
    cgroup.create(new CgroupLimits(OptionalLong.of(256L << 20), OptionalDouble.of(0.5),
        OptionalLong.of(64)));
    CgroupLayout layout = cgroups.layout();
    String rel = "infraveil/" + cgroups.hostKey() + "/dep/limited-1";
    assertEquals(rel, cgroup.name());
    if (layout.mode() == CgroupLayout.Mode.HYBRID) {
      Path mem = layout.v1().get("memory").resolve(cgroups.hostKey() + "/dep/limited-1");
      assertEquals("268435456", Files.readString(mem.resolve("memory.limit_in_bytes")).trim());
      Path cpu = layout.v1().get("cpu").resolve(cgroups.hostKey() + "/dep/limited-1");
      assertEquals("50000", Files.readString(cpu.resolve("cpu.cfs_quota_us")).trim());
      Path pids = layout.v1().get("pids").resolve(cgroups.hostKey() + "/dep/limited-1");
      assertEquals("64", Files.readString(pids.resolve("pids.max")).trim());
      cgroup.create(CgroupLimits.NONE);
      assertEquals("-1", Files.readString(cpu.resolve("cpu.cfs_quota_us")).trim());
      assertEquals("max", Files.readString(pids.resolve("pids.max")).trim());
    } else {
      assertEquals("268435456", Files.readString(cgroup.path().resolve("memory.max")).trim());
      assertEquals("50000 100000", Files.readString(cgroup.path().resolve("cpu.max")).trim());
      assertEquals("64", Files.readString(cgroup.path().resolve("pids.max")).trim());
      cgroup.create(CgroupLimits.NONE);
      assertEquals("max", Files.readString(cgroup.path().resolve("memory.max")).trim());
    }
  }

  // killDeployment stops every instance of one deployment, removes its cgroups, and leaves
  // another deployment's processes alone.
  @Test
  void killDeploymentLeavesNoProcessOfThatDeploymentOnly() throws Exception {
    ServiceCgroup a = cgroups.service("dep", "a", 0);
    ServiceCgroup b = cgroups.service("dep", "b", 1);
    ServiceCgroup other = cgroups.service("other", "a", 0);
    for (ServiceCgroup g : List.of(a, b, other)) {
      g.create(CgroupLimits.NONE);
    }
    Process starter = start(a, "(setsid sleep 300 &); exit 0");
    // The marker says the trap is set: a TERM that came before it would kill b, and then
    // nothing would be left for the kill to do.
    Path bIgnoresTerm = dir.resolve("b-ignores-term");
    start(b, "trap '' TERM; touch '" + bIgnoresTerm + "'; sleep 300");
    start(other, "sleep 300");
    // Only once the starter has exited is the daemon all that is left in a: a TERM sent while
    // the starter was still forking would miss the daemon and leave it to the kill.
    assertTrue(starter.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
    awaitPids(a, 1);
    awaitPids(b, 1);
    awaitPids(other, 1);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!Files.exists(bIgnoresTerm) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(Files.exists(bIgnoresTerm), "b never got past its trap");
    try {
      // `b` ignores TERM, so it alone needs the kill.
      Cgroups.KillReport report = cgroups.killDeployment("dep", "TERM", Duration.ofSeconds(1));
      assertEquals(2, report.cgroups());
      assertEquals(1, report.killed());
      assertEquals(List.of(), report.leftOver());
      assertFalse(a.populated());
      assertFalse(b.populated());
      assertFalse(Files.exists(a.path()));
      assertEquals(List.of(), cgroups.deploymentCgroups("dep"));
      assertTrue(other.populated());
    } finally {
      assertEquals(List.of(), cgroups.killDeployment("other", "KILL", Duration.ZERO).leftOver());
    }
  }
}
