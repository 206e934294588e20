package io.infraveil.host.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessIdentityTest {

  @TempDir Path dir;

  @Test
  void findsLiveProcessWithMatchingStartTime() {
    ProcessIdentity self = ProcessIdentity.ofPid(ProcessHandle.current().pid()).orElseThrow();
    assertEquals(ProcessHandle.current().pid(), self.find().orElseThrow().pid());
    assertTrue(self.isAlive());
  }

  /** A saved pid with another start time is a reused pid: never adopted. */
  @Test
  void refusesWrongStartTime() {
    ProcessIdentity self = ProcessIdentity.ofPid(ProcessHandle.current().pid()).orElseThrow();
    ProcessIdentity reused = new ProcessIdentity(self.pid(), self.startedAt().minusSeconds(1));
    assertTrue(reused.find().isEmpty());
    assertFalse(reused.isAlive());
  }

  @Test
  void refusesNonPositivePid() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ProcessIdentity(0, java.time.Instant.EPOCH));
    assertEquals("pid must be positive, got 0", e.getMessage());
  }

  /** A group leader in its own session is found, stopped with its children, then not found. */
  @Test
  void stopGroupStopsLeaderAndChildren() throws IOException, InterruptedException {
    Process process = ProcessGroups.startInNewSession(
        List.of("sh", "-c", "sleep 1000 & echo $! > child.pid; wait"), dir, Map.of(),
        dir.resolve("out.log"), dir.resolve("err.log"));
    ProcessIdentity leader = ProcessIdentity.of(process.toHandle()).orElseThrow();
    Path childPid = dir.resolve("child.pid");
    for (int i = 0; i < 100 && (!Files.exists(childPid) || Files.size(childPid) == 0); i++) {
      Thread.sleep(20);
    }
    long child = Long.parseLong(Files.readString(childPid).trim());
    assertTrue(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false));

    ProcessGroups.stopGroup(leader, "TERM", Duration.ofSeconds(2));

    assertTrue(process.waitFor(5, TimeUnit.SECONDS));
    assertFalse(leader.isAlive());
    for (int i = 0; i < 100 && ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false); i++) {
      Thread.sleep(20);
    }
    assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false));
  }
}
