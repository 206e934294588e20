package io.infraveil.launcher;

import io.infraveil.host.process.ProcStat;
import io.infraveil.host.process.ProcessIdentity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads {@code DATA/agents/<deployment>/agent.lock}. A running agent holds an exclusive OS
 * lock on it (released by the kernel when the agent dies) and writes one line into it,
 * {@code pid=<pid> starttime=<raw field 22 of /proc/<pid>/stat>}. The line names the holder;
 * the pid and starttime pair, checked against {@code /proc}, proves that the holder still
 * runs, so a stale file left by a dead agent (or a reused pid) never counts.
 */
final class AgentLockFile {

  static final String FILE = "agent.lock";

  /** What the line says. */
  record Holder(long pid, long starttime) {}

  private AgentLockFile() {}

  /** The agent that holds the deployment's lock and still runs, or empty. */
  static Optional<ProcessIdentity> liveHolder(Path agentDir) {
    return read(agentDir.resolve(FILE))
        .filter(h -> ProcStat.isSameProcess(h.pid(), h.starttime()))
        .flatMap(h -> ProcessIdentity.ofPid(h.pid()));
  }

  /** Parses the file; empty when it is absent, empty or not in the contract's form. */
  static Optional<Holder> read(Path file) {
    String line;
    try {
      if (!Files.isRegularFile(file)) {
        return Optional.empty();
      }
      line = Files.readString(file, StandardCharsets.UTF_8).trim();
    } catch (IOException unreadable) {
      return Optional.empty();
    }
    Long pid = null;
    Long starttime = null;
    for (String token : line.split("\\s+")) {
      int eq = token.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      try {
        long value = Long.parseLong(token.substring(eq + 1));
        switch (token.substring(0, eq)) {
          case "pid" -> pid = value;
          case "starttime" -> starttime = value;
          default -> { } // later additions to the line are not ours to judge
        }
      } catch (NumberFormatException notANumber) {
        return Optional.empty();
      }
    }
    return pid == null || starttime == null || pid <= 0 ? Optional.empty()
        : Optional.of(new Holder(pid, starttime));
  }
}
