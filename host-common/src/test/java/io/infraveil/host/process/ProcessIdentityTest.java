package io.infraveil.host.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.infraveil.host.fs.JsonFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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

  /** A saved pid with other start ticks is a reused pid: never adopted. */
  @Test
  void refusesOtherStartTicks() {
    ProcessIdentity self = ProcessIdentity.ofPid(ProcessHandle.current().pid()).orElseThrow();
    ProcessIdentity reused =
        new ProcessIdentity(self.pid(), self.startedAt(), self.startTicks() - 1);
    assertTrue(reused.find().isEmpty());
    assertFalse(reused.isAlive());
  }

  /**
   * A system clock stepped by an hour moves the JDK's start instant (derived from btime) by an
   * hour: the process is still the same one, because the raw start ticks did not move. Before
   * the ticks were compared, this identity was "gone" and a restarted launcher respawned it.
   */
  @Test
  void matchesByStartTicksWhenTheClockWasSteppedByAnHour() {
    ProcessIdentity self = ProcessIdentity.ofPid(ProcessHandle.current().pid()).orElseThrow();
    for (Duration step : List.of(Duration.ofHours(1), Duration.ofHours(-1))) {
      ProcessIdentity savedBeforeStep =
          new ProcessIdentity(self.pid(), self.startedAt().minus(step), self.startTicks());
      assertEquals(self.pid(), savedBeforeStep.find().orElseThrow().pid(), "step " + step);
    }
  }

  @Test
  void startTicksAreThoseOfProcStat() {
    ProcessIdentity self = ProcessIdentity.ofPid(ProcessHandle.current().pid()).orElseThrow();
    assertEquals(ProcStat.read(self.pid()).orElseThrow().startTicks(), self.startTicks());
    assertTrue(self.hasStartTicks());
  }

  /** An identity saved before ticks were recorded still matches by start instant, as it did. */
  @Test
  void identityWithoutTicksMatchesByStartInstantAndUpgrades() {
    ProcessIdentity self = ProcessIdentity.ofPid(ProcessHandle.current().pid()).orElseThrow();
    ProcessIdentity legacy =
        new ProcessIdentity(self.pid(), self.startedAt(), ProcessIdentity.UNKNOWN_TICKS);
    assertTrue(legacy.isAlive());
    assertEquals(self, legacy.upgraded());

    ProcessIdentity legacyOther = new ProcessIdentity(self.pid(), self.startedAt().minusSeconds(1),
        ProcessIdentity.UNKNOWN_TICKS);
    assertFalse(legacyOther.isAlive());
    assertEquals(legacyOther, legacyOther.upgraded(), "a non-matching identity stays as saved");
  }

  /** The saved form: the ticks are one more field; files without it read as UNKNOWN_TICKS. */
  @Test
  void jsonKeepsFieldNamesAndReadsOldFiles() throws IOException {
    ObjectMapper mapper = JsonFiles.mapper();
    ProcessIdentity id = new ProcessIdentity(4242, Instant.parse("2025-01-01T00:00:00.120Z"), 777);
    var tree = mapper.readTree(mapper.writeValueAsBytes(id));
    List<String> names = new java.util.ArrayList<>();
    tree.fieldNames().forEachRemaining(names::add);
    assertEquals(List.of("pid", "startedAt", "startTicks"), names);
    assertEquals(id, mapper.readValue(mapper.writeValueAsBytes(id), ProcessIdentity.class));
    ProcessIdentity old = mapper.readValue(
        "{\"pid\":4242,\"startedAt\":\"2025-01-01T00:00:00.120Z\"}", ProcessIdentity.class);
    assertEquals(ProcessIdentity.UNKNOWN_TICKS, old.startTicks());
    assertFalse(old.hasStartTicks());
  }

  @Test
  void refusesNonPositivePid() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ProcessIdentity(0, Instant.EPOCH, 1));
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
