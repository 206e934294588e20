package io.infraveil.agent;

import java.io.IOException;

/** Where the agent's state lives between runs. */
public interface AgentStateStore {

  /** The saved state, or {@link AgentState#EMPTY} when there is none. */
  AgentState load() throws IOException;

  /** Saves the state; unchanged state is not rewritten. */
  void save(AgentState state) throws IOException;
}
