package io.infraveil.agent;

import io.infraveil.host.fs.JsonFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** {@code <agentDir>/agent_state.json}, written atomically (temp file, fsync, rename). */
public final class FileAgentStateStore implements AgentStateStore {

  public static final String FILE_NAME = "agent_state.json";

  private final Path file;

  public FileAgentStateStore(Path agentDir) {
    this.file = Objects.requireNonNull(agentDir, "agentDir").resolve(FILE_NAME);
  }

  @Override
  public AgentState load() throws IOException {
    AgentState state = JsonFiles.read(file, AgentState.class).orElse(AgentState.EMPTY);
    if (state.formatVersion() < AgentState.OLDEST_READABLE_FORMAT
        || state.formatVersion() > AgentState.FORMAT_VERSION) {
      throw new IOException(file + " has formatVersion " + state.formatVersion()
          + "; this agent reads formats " + AgentState.OLDEST_READABLE_FORMAT + " to "
          + AgentState.FORMAT_VERSION);
    }
    return upgraded(state);
  }

  @Override
  public void save(AgentState state) throws IOException {
    JsonFiles.write(file, state);
  }

  /**
   * Format 2 in memory: processes saved without start ticks get them from the live process
   * while it still matches by start time, so a later clock step cannot lose them.
   */
  private static AgentState upgraded(AgentState state) {
    if (state.formatVersion() == AgentState.FORMAT_VERSION) {
      return state;
    }
    Map<String, AgentState.SavedService> services = new LinkedHashMap<>();
    state.services().forEach((name, service) -> services.put(name,
        new AgentState.SavedService(service.state(), service.processes().stream()
            .map(p -> new AgentState.SavedProcess(p.clusterIndex(), p.commandIndex(),
                p.identity().upgraded()))
            .toList())));
    return new AgentState(AgentState.FORMAT_VERSION, state.releaseSha256(), state.versions(),
        services);
  }

  public Path file() {
    return file;
  }
}
