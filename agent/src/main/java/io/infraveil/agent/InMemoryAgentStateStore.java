package io.infraveil.agent;

import java.util.Objects;

/** Keeps the state in memory, for tests and for an agent without a data dir. */
public final class InMemoryAgentStateStore implements AgentStateStore {

  private volatile AgentState state = AgentState.EMPTY;

  @Override
  public AgentState load() {
    return state;
  }

  @Override
  public void save(AgentState newState) {
    state = Objects.requireNonNull(newState, "state");
  }
}
