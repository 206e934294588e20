package io.infraveil.host.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Group stops with real processes: pid reuse must never make us signal somebody else. */
class ProcessGroupsTest {

  /**
   * A leader that forks a member and exits: it lingers a moment so that its identity can be
   * read before it is gone (a leader that exits at once may leave nothing to identify).
   */
  private static final String EXITING_LEADER =
      "sleep 1000 & echo $! > child.pid; sleep 0.3; exit 0";

  @TempDir Path dir;
  private Process started;
  private long child = -1;

  @AfterEach
  void cleanUp() {
    if (child > 0) {
      ProcessGroups.signal(child, "KILL");
    }
    if (started != null) {
      started.destroyForcibly();
    }
  }

  /** The leader exited but its child lives on in the group: the child is killed. */
  @Test
  void stopGroupOfExitedLeaderKillsTheRemainingMembers() throws Exception {
    ProcessIdentity leader = startGroup(EXITING_LEADER);
    assertTrue(started.waitFor(5, TimeUnit.SECONDS));
    assertFalse(leader.isAlive());
    assertEquals(leader.pid(), ProcessGroups.processGroupOf(child));

    ProcessGroups.stopGroup(leader, "TERM", Duration.ofSeconds(1));

    assertTrue(awaitGone(child), "orphaned member " + child + " still alive");
  }

  /**
   * The saved identity's pid now belongs to another group leader (same pid, other start time):
   * neither it nor its child is signalled. Before the fix the group -pid got SIGKILL.
   */
  @Test
  void stopGroupNeverSignalsAGroupWhosePidWasReused() throws Exception {
    ProcessIdentity other = startGroup("sleep 1000 & echo $! > child.pid; wait");
    ProcessIdentity stale = new ProcessIdentity(other.pid(), other.startedAt().minusSeconds(60),
        other.startTicks() - 1);

    ProcessGroups.stopGroup(stale, "TERM", Duration.ofMillis(200));

    Thread.sleep(300);
    assertTrue(started.isAlive(), "the process that reused the pid was signalled");
    assertTrue(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false),
        "a member of the group that reused the pid was signalled");
  }

  /**
   * The leader is gone and a group with its id exists, but all its members are older than the
   * leader we started: that group is not ours and is left alone.
   */
  @Test
  void stopGroupLeavesAGroupWhoseMembersPredateTheLeader() throws Exception {
    ProcessIdentity leader = startGroup(EXITING_LEADER);
    assertTrue(started.waitFor(5, TimeUnit.SECONDS));
    ProcessIdentity later = new ProcessIdentity(leader.pid(), Instant.now().plusSeconds(3600),
        leader.startTicks() + 3600 * 100);

    ProcessGroups.stopGroup(later, "TERM", Duration.ofMillis(200));

    Thread.sleep(300);
    assertTrue(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false));
  }

  /** One killpg call reaches every member of the group: the leader and the child it forked. */
  @Test
  void signalGroupReachesEveryMember() throws Exception {
    ProcessIdentity leader = startGroup("sleep 1000 & echo $! > child.pid; wait");

    assertTrue(ProcessGroups.signalGroup(leader.pid(), Signal.KILL));

    assertTrue(started.waitFor(5, TimeUnit.SECONDS));
    assertEquals(128 + 9, started.exitValue(), "the leader died of SIGKILL");
    assertTrue(awaitGone(child), "member " + child + " still alive");
    assertFalse(ProcessGroups.signalGroup(leader.pid(), Signal.KILL), "no group left to signal");
  }

  /** kill(2) reaches the one process only; a process that is gone reports false. */
  @Test
  void signalReachesOneProcessOnly() throws Exception {
    ProcessIdentity leader =
        startGroup("sleep 1000 & echo $! > child.pid; wait; exec sleep 1001");

    assertTrue(ProcessGroups.signal(child, "TERM"));

    assertTrue(awaitGone(child));
    assertTrue(started.isAlive(), "the leader was not signalled");
    assertTrue(ProcessGroups.signal(leader.pid(), "SIGKILL"));
    assertTrue(started.waitFor(5, TimeUnit.SECONDS));
    assertFalse(ProcessGroups.signal(leader.pid(), "KILL"), "a reaped process got a signal");
  }

  /** Ids kill(2) reads as "everyone" or "my own group" are refused before any call. */
  @Test
  void refusesIdsThatNameMoreThanOneProcessOrGroup() {
    for (long id : new long[] {-1, 0, 1, 1L << 40}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ProcessGroups.signalGroup(id, Signal.TERM));
      assertTrue(e.getMessage().startsWith("process group " + id + " cannot be signalled"),
          e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> ProcessGroups.signal(id, "TERM"));
    }
    IllegalArgumentException unknown =
        assertThrows(IllegalArgumentException.class, () -> ProcessGroups.signal(2, "BOGUS"));
    assertTrue(unknown.getMessage().startsWith("unknown signal 'BOGUS'"), unknown.getMessage());
  }

  /**
   * A process is stopped through its group, so it must lead one as soon as it is started: a
   * stop sent while {@code setsid} had not run yet found no group, and the process never got
   * its TERM (nor, later, its KILL). Each start is checked at once, with no wait of our own.
   */
  @Test
  void startedProcessLeadsItsOwnGroupAtOnce() throws Exception {
    for (int i = 0; i < 20; i++) {
      Process process = ProcessGroups.startInNewSession(List.of("sleep", "1000"), dir, Map.of(),
          dir.resolve("out.log"), dir.resolve("err.log"));
      try {
        assertEquals(process.pid(), ProcessGroups.processGroupOf(process.pid()), "start " + i);
        assertTrue(ProcessGroups.signalGroup(process.pid(), "TERM"), "start " + i);
        assertTrue(process.waitFor(5, TimeUnit.SECONDS), "start " + i);
      } finally {
        process.destroyForcibly();
      }
    }
  }

  /** A command that exits at once is returned too, without waiting for a group it never led. */
  @Test
  void startReturnsForACommandThatExitsAtOnce() throws Exception {
    started = ProcessGroups.startInNewSession(List.of("sh", "-c", "exit 3"), dir, Map.of(),
        dir.resolve("out.log"), dir.resolve("err.log"));
    assertTrue(started.waitFor(5, TimeUnit.SECONDS));
    assertEquals(3, started.exitValue());
  }

  @Test
  void groupMembersListsLeaderAndChild() throws Exception {
    ProcessIdentity leader = startGroup("sleep 1000 & echo $! > child.pid; wait");
    List<Long> pids = ProcessGroups.groupMembers(leader.pid()).stream()
        .map(ProcessIdentity::pid).sorted().toList();
    assertEquals(List.of(Math.min(leader.pid(), child), Math.max(leader.pid(), child)), pids);
    assertEquals(-1, ProcessGroups.processGroupOf(Long.MAX_VALUE));
  }

  private ProcessIdentity startGroup(String script) throws IOException, InterruptedException {
    started = ProcessGroups.startInNewSession(List.of("sh", "-c", script), dir, Map.of(),
        dir.resolve("out.log"), dir.resolve("err.log"));
    ProcessIdentity leader = ProcessIdentity.of(started.toHandle()).orElseThrow();
    Path childPid = dir.resolve("child.pid");
    for (int i = 0; i < 250 && (!Files.exists(childPid) || Files.size(childPid) == 0); i++) {
      Thread.sleep(20);
    }
    child = Long.parseLong(Files.readString(childPid).trim());
    return leader;
  }

  private static boolean awaitGone(long pid) throws InterruptedException {
    for (int i = 0; i < 250; i++) {
      if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        return true;
      }
      Thread.sleep(20);
    }
    return false;
  }
}
