package io.infraveil.agent;

import io.infraveil.host.fs.JsonFiles;
import java.io.IOException;
import java.nio.file.Path;
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
    if (state.formatVersion() != AgentState.FORMAT_VERSION) {
      throw new IOException(file + " has formatVersion " + state.formatVersion()
          + "; this agent reads " + AgentState.FORMAT_VERSION);
    }
    return state;
  }

  @Override
  public void save(AgentState state) throws IOException {
    JsonFiles.write(file, state);
  }

  public Path file() {
    return file;
  }
}
