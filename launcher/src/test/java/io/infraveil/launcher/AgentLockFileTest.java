package io.infraveil.launcher;

import io.infraveil.host.process.ProcStat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.process.ProcessIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The agent-lock line names a live holder only when pid and raw starttime both match. */
class AgentLockFileTest {

  @TempDir Path dir;

  private static long ownStarttime() {
    return ProcStat.startTicksOf(ProcessHandle.current().pid()).orElseThrow();
  }

  @Test
  void liveHolderIsThisProcessWhenPidAndStarttimeMatch() throws Exception {
    long pid = ProcessHandle.current().pid();
    Files.writeString(dir.resolve(AgentLockFile.FILE),
        "pid=" + pid + " starttime=" + ownStarttime() + "\n");
    assertEquals(ProcessIdentity.ofPid(pid), AgentLockFile.liveHolder(dir));
  }

  /** A reused pid (another starttime), a dead pid, garbage or half a line name nobody. */
  @ParameterizedTest
  @ValueSource(strings = {"starttime-off-by-one", "dead-pid", "garbage", "no-starttime",
      "empty", "absent"})
  void staleOrMalformedLinesNameNobody(String kind) throws Exception {
    long pid = ProcessHandle.current().pid();
    String line = switch (kind) {
      case "starttime-off-by-one" -> "pid=" + pid + " starttime=" + (ownStarttime() + 1);
      case "dead-pid" -> "pid=4194304 starttime=1";
      case "garbage" -> "\u0000\u00ff pid=x starttime=y";
      case "no-starttime" -> "pid=" + pid;
      case "empty" -> "";
      case "absent" -> null;
      default -> throw new AssertionError(kind);
    };
    if (line != null) {
      Files.writeString(dir.resolve(AgentLockFile.FILE), line);
    }
    assertEquals(Optional.empty(), AgentLockFile.liveHolder(dir));
  }

  @Test
  void extraFieldsOnTheLineAreIgnored() throws Exception {
    long pid = ProcessHandle.current().pid();
    Files.writeString(dir.resolve(AgentLockFile.FILE),
        "pid=" + pid + " starttime=" + ownStarttime() + " version=2");
    assertTrue(AgentLockFile.liveHolder(dir).isPresent());
  }
}
