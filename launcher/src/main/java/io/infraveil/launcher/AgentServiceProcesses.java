package io.infraveil.launcher;

import io.infraveil.host.process.ProcStat;
import com.fasterxml.jackson.databind.JsonNode;
import io.infraveil.host.fs.JsonFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The service processes an agent recorded in {@code DATA/agents/<deployment>/agent_state.json}
 * ({@code services.<name>.processes[].pid/startedAt}, optionally a raw {@code starttime}), so
 * the launcher can stop what an agent left behind when the agent itself could not. Read
 * leniently: the agent owns the format, and a file the launcher cannot read names nothing.
 */
final class AgentServiceProcesses {

  static final String FILE = "agent_state.json";

  /** One recorded process; {@code starttime} (raw ticks) is checked when present. */
  record Recorded(long pid, Instant startedAt, Long starttime) {

    /**
     * True while the very process that was recorded runs (a reused pid never matches); an
     * exited process nobody has reaped yet (a zombie) does not run.
     */
    boolean isAlive() {
      if (!ProcStat.isRunning(pid)) {
        return false;
      }
      if (starttime != null) {
        return ProcStat.isSameProcess(pid, starttime);
      }
      return startedAt != null
          && new io.infraveil.host.process.ProcessIdentity(pid, startedAt).isAlive();
    }
  }

  private AgentServiceProcesses() {}

  static List<Recorded> read(Path agentDir) {
    Path file = agentDir.resolve(FILE);
    List<Recorded> out = new ArrayList<>();
    if (!Files.isRegularFile(file)) {
      return out;
    }
    JsonNode root;
    try {
      root = JsonFiles.mapper().readTree(file.toFile());
    } catch (IOException unreadable) {
      return out;
    }
    JsonNode services = root == null ? null : root.get("services");
    if (services == null || !services.isObject()) {
      return out;
    }
    services.elements().forEachRemaining(service -> {
      JsonNode processes = service.get("processes");
      if (processes == null || !processes.isArray()) {
        return;
      }
      processes.forEach(p -> {
        long pid = p.path("pid").asLong(0);
        if (pid <= 0) {
          return;
        }
        Instant startedAt = null;
        try {
          startedAt = p.hasNonNull("startedAt") ? Instant.parse(p.get("startedAt").asText())
              : null;
        } catch (RuntimeException notAnInstant) {
          startedAt = null;
        }
        Long starttime = p.hasNonNull("starttime") ? p.get("starttime").asLong() : null;
        if (startedAt != null || starttime != null) {
          out.add(new Recorded(pid, startedAt, starttime));
        }
      });
    });
    return out;
  }
}
