package io.infraveil.agent.main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lock file contract in one JVM; AgentMainTest runs it across real agent processes. Reading
 * a held lock file here (closing that descriptor) drops the fcntl lock at the OS level, so the
 * tests that read it rely on nothing but the content afterwards.
 */
class AgentLockTest {

  @TempDir Path data;

  // The holder writes its own pid and raw start time (field 22 of /proc/self/stat).
  @Test
  void holderWritesPidAndStartTime() throws Exception {
    AgentLock.Attempt attempt = AgentLock.tryAcquire(data, "web");
    try (AgentLock lock = attempt.lock().orElseThrow()) {
      String expected = "pid=" + ProcessHandle.current().pid() + " starttime="
          + AgentLock.startTimeTicks(Files.readString(Path.of("/proc/self/stat")));
      assertEquals(expected, attempt.holder());
      assertEquals(expected + "\n", Files.readString(data.resolve("agents/web/agent.lock")));
      assertEquals(data.resolve("agents/web/agent.lock").toAbsolutePath(), lock.file());
    }
  }

  // A second attempt in the same JVM is refused with the holder's line and does not drop the
  // first lock (another process still cannot take it).
  @Test
  void secondAttemptIsRefusedAndFirstLockSurvives() throws Exception {
    AgentLock.Attempt first = AgentLock.tryAcquire(data, "web");
    AgentLock.Attempt second = AgentLock.tryAcquire(data, "web");
    assertTrue(first.acquired());
    assertFalse(second.acquired());
    assertEquals(first.holder(), second.holder());
    assertEquals(Optional.of(ProcessHandle.current().pid()), AgentLock.pid(second.holder()));
    assertTrue(AgentLock.tryAcquire(data, "api").acquired(), "other deployments are free");
    first.lock().orElseThrow().close();
    AgentLock.Attempt third = AgentLock.tryAcquire(data, "web");
    assertTrue(third.acquired(), "released on close");
    third.lock().orElseThrow().close();
  }

  // A lock file left by a dead agent (content, no lock) is simply taken over and rewritten.
  @Test
  void staleFileWithoutLockIsTakenOver() throws Exception {
    Path file = data.resolve("agents/web/agent.lock");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "pid=999999999 starttime=12345 and a longer tail\n");
    AgentLock.Attempt attempt = AgentLock.tryAcquire(data, "web");
    try (AgentLock lock = attempt.lock().orElseThrow()) {
      assertEquals(attempt.holder() + "\n", Files.readString(file)); // old tail gone
      assertTrue(lock.file().endsWith("agents/web/agent.lock"));
    }
  }

  // Field 22 is counted from the last ')': a command name with spaces and ')' does not shift it.
  @Test
  void startTimeIsFieldTwentyTwo() {
    String stat = "4242 (we ir) d) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 "
        + "987654 1000 200 18446744073709551615";
    assertEquals("987654", AgentLock.startTimeTicks(stat));
    assertEquals("no start time (field 22) in /proc stat line: 1 (x) S 1",
        assertThrows(IllegalArgumentException.class,
            () -> AgentLock.startTimeTicks("1 (x) S 1")).getMessage());
  }

  // Only a well-formed pid is read from a holder line.
  @Test
  void readsPidFromHolderLine() {
    assertEquals(Optional.of(77L), AgentLock.pid("pid=77 starttime=5"));
    assertEquals(Optional.empty(), AgentLock.pid(""));
    assertEquals(Optional.empty(), AgentLock.pid("pid=x starttime=5"));
  }
}
