package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.fs.JsonFiles;
import io.infraveil.host.process.ProcessIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** agent_state.json on disk: round trip, power cut before the rename, format, no rewrites. */
class FileAgentStateStoreTest {

  @TempDir Path dir;

  static AgentState state(String release) {
    return new AgentState(AgentState.FORMAT_VERSION, release,
        new VersionState(release, VersionStatus.KNOWN_GOOD, List.of(release), Set.of("b".repeat(64)),
            List.of()),
        Map.of("web", new AgentState.SavedService(ServiceState.RUNNING, List.of(
            new AgentState.SavedProcess(0, 0, 4242, Instant.parse("2030-01-01T00:00:00.12Z"),
                987654)))));
  }

  // What a service spent of its healing budget and its last failure survive the round trip.
  @Test
  void restartRecordAndLastFailureReadBackEqual() throws IOException {
    AgentState failed = new AgentState(AgentState.FORMAT_VERSION, "a".repeat(64),
        VersionState.EMPTY, Map.of("web", new AgentState.SavedService(ServiceState.FAILED,
            List.of(), new AgentState.SavedRestarts(8, 7, Instant.parse("2030-01-01T00:00:09Z")),
            "PROCESS_EXITED: process 4242 (cluster 0) exited", List.of())));
    new FileAgentStateStore(dir).save(failed);
    AgentState read = new FileAgentStateStore(dir).load();
    assertEquals(failed, read);
    assertEquals(new RestartRecord(8, 7, java.util.Optional.of(
        Instant.parse("2030-01-01T00:00:09Z"))), read.services().get("web").restarts().toRecord());
  }

  // A file written before restarts and lastFailure were saved reads as nothing spent.
  @Test
  void serviceSavedWithoutRestartsReadsAsNothingSpent() throws IOException {
    Files.writeString(dir.resolve(FileAgentStateStore.FILE_NAME), """
        {"formatVersion": 1, "releaseSha256": null, "services": {"web": {"state": "RUNNING",
          "processes": [{"clusterIndex": 0, "commandIndex": 0, "pid": 4242,
                         "startedAt": "2030-01-01T00:00:00.120Z"}]}}}
        """);
    AgentState.SavedService web = new FileAgentStateStore(dir).load().services().get("web");
    assertEquals(AgentState.SavedRestarts.NONE, web.restarts());
    assertEquals(RestartRecord.NONE, web.restarts().toRecord());
    assertEquals("", web.lastFailure());
    assertEquals(4242, web.processes().get(0).pid());
  }

  @Test
  void nothingSavedReadsAsEmpty() throws IOException {
    assertEquals(AgentState.EMPTY, new FileAgentStateStore(dir).load());
  }

  @Test
  void savedStateReadsBackEqual() throws IOException {
    FileAgentStateStore store = new FileAgentStateStore(dir);
    store.save(state("a".repeat(64)));
    assertEquals(state("a".repeat(64)), new FileAgentStateStore(dir).load());
  }

  /**
   * A power cut after the new state's temp file was written but before the rename: the previous
   * state reads back whole (processes still adoptable), and the next save goes through.
   */
  @Test
  void powerCutBeforeRenameLeavesPreviousStateReadable() throws IOException {
    FileAgentStateStore store = new FileAgentStateStore(dir);
    store.save(state("a".repeat(64)));
    Files.write(dir.resolve(".agent_state.json.1234.tmp"),
        JsonFiles.mapper().writeValueAsBytes(state("c".repeat(64))));
    Files.write(dir.resolve(".agent_state.json.5678.tmp"), new byte[] {'{', '"', 0});
    assertEquals(state("a".repeat(64)), new FileAgentStateStore(dir).load());
    store.save(state("c".repeat(64)));
    assertEquals(state("c".repeat(64)), new FileAgentStateStore(dir).load());
  }

  @Test
  void unchangedStateIsNotRewritten() throws IOException {
    FileAgentStateStore store = new FileAgentStateStore(dir);
    store.save(state("a".repeat(64)));
    FileTime old = FileTime.fromMillis(1_000_000);
    Files.setLastModifiedTime(store.file(), old);
    store.save(state("a".repeat(64)));
    assertEquals(old, Files.getLastModifiedTime(store.file()));
  }

  @Test
  void refusesAnotherFormatNamingTheFile() throws IOException {
    Files.writeString(dir.resolve(FileAgentStateStore.FILE_NAME), "{\"formatVersion\": 7}");
    IOException e = assertThrows(IOException.class, () -> new FileAgentStateStore(dir).load());
    assertTrue(e.getMessage().contains(
        "agent_state.json has formatVersion 7; this agent reads formats 1 to 2"),
        e.getMessage());
  }

  /**
   * The format-1 fixture (pid and start time only) reads as format 2 with the start ticks
   * unknown, and is written as format 2 with the new field on the next save.
   */
  @Test
  void upgradesFormatOneFixture() throws IOException {
    Files.copy(getClass().getResourceAsStream("/agent_state.v1.json"),
        dir.resolve(FileAgentStateStore.FILE_NAME));
    FileAgentStateStore store = new FileAgentStateStore(dir);
    AgentState upgraded = store.load();
    assertEquals(AgentState.FORMAT_VERSION, upgraded.formatVersion());
    AgentState.SavedProcess p = upgraded.services().get("web").processes().get(0);
    assertEquals(new AgentState.SavedProcess(0, 0, 4242,
        Instant.parse("2030-01-01T00:00:00.12Z"), ProcessIdentity.UNKNOWN_TICKS), p);
    assertEquals(List.of("a".repeat(64)), upgraded.versions().knownGood());
    store.save(upgraded);
    String written = Files.readString(store.file());
    assertTrue(written.contains("\"formatVersion\" : 2"), written);
    assertTrue(written.contains("\"startTicks\" : 0"), written);
    assertEquals(upgraded, store.load());
  }

  /** A format-1 process that is still alive gets its start ticks while it still matches. */
  @Test
  void formatOneLiveProcessGetsItsStartTicks() throws IOException {
    ProcessIdentity self = ProcessIdentity.ofPid(ProcessHandle.current().pid()).orElseThrow();
    String v1 = new String(getClass().getResourceAsStream("/agent_state.v1.json").readAllBytes(),
        java.nio.charset.StandardCharsets.UTF_8)
        .replace("\"pid\" : 4242", "\"pid\" : " + self.pid())
        .replace("2030-01-01T00:00:00.120Z", self.startedAt().toString());
    Files.writeString(dir.resolve(FileAgentStateStore.FILE_NAME), v1);
    AgentState.SavedProcess p =
        new FileAgentStateStore(dir).load().services().get("web").processes().get(0);
    assertEquals(self, p.identity());
  }

  @Test
  void truncatedFileIsAnErrorNamingIt() throws IOException {
    Files.writeString(dir.resolve(FileAgentStateStore.FILE_NAME), "{\"formatVersion\": 1, \"rel");
    IOException e = assertThrows(IOException.class, () -> new FileAgentStateStore(dir).load());
    assertTrue(e.getMessage().startsWith("cannot read " + dir.resolve("agent_state.json")),
        e.getMessage());
  }
}
