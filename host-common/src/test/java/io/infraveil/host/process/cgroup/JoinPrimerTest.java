package io.infraveil.host.process.cgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Priming a join writes this process into the cgroup it is in, and nowhere else. */
class JoinPrimerTest {

  @TempDir
  Path dir;

  // On this machine's cgroups (skipped where none is writable): the write goes to this
  // process's own cgroup.procs and leaves it in the cgroup it was in, in every hierarchy.
  @Test
  void primingMovesThisProcessNowhere() throws Exception {
    CgroupLayout layout = CgroupLayout.system();
    assumeTrue(layout.tracks(), "skipped: no writable cgroup hierarchy here: "
        + layout.description());
    String before = Files.readString(Path.of("/proc/self/cgroup"));
    Optional<Path> written = new JoinPrimer(layout).primeNow();
    assertTrue(written.isPresent(), "no cgroup.procs of this process was written");
    assertTrue(written.get().startsWith(layout.tracking().orElseThrow().getParent()),
        written.get().toString());
    assertEquals(before, Files.readString(Path.of("/proc/self/cgroup")));
  }

  // The file is found from the v2 line of /proc/self/cgroup below the tracking root.
  @Test
  void writesOwnPidToTheCgroupNamedByTheV2Line() throws Exception {
    Path root = Files.createDirectories(dir.resolve("unified"));
    Path procs = Files.createDirectories(root.resolve("system.slice/agent.service"))
        .resolve("cgroup.procs");
    Files.writeString(procs, "");
    Path self = Files.writeString(dir.resolve("cgroup"),
        "4:memory:/elsewhere\n0::/system.slice/agent.service\n");
    assertEquals(Optional.of(procs), new JoinPrimer(root, self).primeNow());
    assertEquals(Long.toString(ProcessHandle.current().pid()), Files.readString(procs));
  }

  // A path that leaves the tracking root, a missing cgroup, or no v2 line: nothing written.
  @Test
  void writesNothingOutsideTheTrackingRootOrWithoutAV2Line() throws Exception {
    Path root = Files.createDirectories(dir.resolve("unified"));
    Path outside = dir.resolve("cgroup.procs");
    Files.writeString(outside, "");
    Path escaping = Files.writeString(dir.resolve("escaping"), "0::/..\n");
    Path missing = Files.writeString(dir.resolve("missing"), "0::/gone\n");
    Path v1Only = Files.writeString(dir.resolve("v1"), "4:memory:/\n");
    assertEquals(Optional.empty(), new JoinPrimer(root, escaping).primeNow());
    assertEquals(Optional.empty(), new JoinPrimer(root, missing).primeNow());
    assertEquals(Optional.empty(), new JoinPrimer(root, v1Only).primeNow());
    assertEquals("", Files.readString(outside));
    assertEquals(Optional.empty(),
        new JoinPrimer(CgroupLayout.detect(dir.resolve("no-cgroups"))).primeNow());
  }
}
