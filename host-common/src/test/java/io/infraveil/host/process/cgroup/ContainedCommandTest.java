package io.infraveil.host.process.cgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.infraveil.host.process.ProcessGroups;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real cgroups on this machine (skipped, saying why, where none is writable): a contained
 * command joins every hierarchy of its cgroup before it runs, in the shell that runs it.
 */
class ContainedCommandTest {

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
      assertEquals(List.of(), cgroups.killDeployment("dep", "KILL", Duration.ZERO).leftOver());
    }
  }

  private Process start(ServiceCgroup cgroup, String command) throws Exception {
    return ProcessGroups.startInNewSession(
        ContainedCommand.shell(command, Optional.of(cgroup), Optional.empty()), dir, Map.of(),
        dir.resolve("out.log"), dir.resolve("err.log"));
  }

  // The command runs in the very shell that joined (no second sh exec'd after the joins),
  // inside the cgroup of every hierarchy, and sees what `sh -c command` would give it.
  @Test
  void commandRunsInTheShellThatJoinedEveryHierarchy() throws Exception {
    ServiceCgroup cgroup = cgroups.service("dep", "web", 0);
    cgroup.create(CgroupLimits.NONE);
    Path seen = dir.resolve("seen");
    Process process = start(cgroup, "tr '\\0' ' ' < /proc/$$/cmdline > '" + seen + ".argv'; "
        + "echo \"$0 $# ${c-unset} ${f-unset}\" > '" + seen + ".args'; "
        + "cat /proc/$$/cgroup > '" + seen + ".cgroup'; exec sleep 300");
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (cgroup.pids().isEmpty() || !Files.exists(dir.resolve("seen.cgroup"))
        || Files.size(dir.resolve("seen.cgroup")) == 0) {
      assertTrue(System.nanoTime() < deadline, "the command did not run: "
          + Files.readString(dir.resolve("err.log")));
      Thread.sleep(10);
    }
    assertEquals(List.of(process.pid()), cgroup.pids());
    String argv = Files.readString(dir.resolve("seen.argv"));
    assertTrue(argv.startsWith("sh -c echo $$ > ") && argv.contains("cgroup.procs"),
        "the command ran in a shell other than the one that joined: " + argv);
    assertEquals("sh 0 unset unset", Files.readString(dir.resolve("seen.args")).trim());
    String membership = Files.readString(dir.resolve("seen.cgroup"));
    String relative = cgroup.name().substring(CgroupLayout.TOP.length());
    long hierarchies = membership.lines().filter(l -> l.endsWith(relative)).count();
    assertEquals(cgroup.procsFiles().size(), hierarchies, membership);
  }

  // A cgroup that cannot be joined stops the command before it runs, with JOIN_FAILED.
  @Test
  void refusedJoinExitsWithJoinFailedBeforeTheCommand() throws Exception {
    ServiceCgroup missing = cgroups.service("dep", "never-created", 0);
    Path ran = dir.resolve("ran");
    Process process = start(missing, "touch '" + ran + "'");
    assertTrue(process.waitFor(10, TimeUnit.SECONDS));
    assertEquals(ContainedCommand.JOIN_FAILED, process.exitValue());
    assertTrue(Files.readString(dir.resolve("err.log")).contains("infraveil: cannot join cgroup: "
        + missing.procsFiles().get(0)), Files.readString(dir.resolve("err.log")));
    assertTrue(!Files.exists(ran), "the command ran outside its cgroup");
  }
}
