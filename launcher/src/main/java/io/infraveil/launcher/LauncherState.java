package io.infraveil.launcher;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Everything the launcher persists in {@code DATA/launcher_state.json}: the last desired state
 * it accepted and, per deployment, the agent it runs. Immutable; written whole.
 */
public record LauncherState(int formatVersion, DesiredSnapshot desired,
    Map<String, AgentRecord> agents) {

  public static final int FORMAT_VERSION = 1;
  public static final LauncherState EMPTY =
      new LauncherState(FORMAT_VERSION, DesiredSnapshot.NONE, Map.of());

  public LauncherState {
    if (formatVersion != FORMAT_VERSION) {
      throw new IllegalArgumentException("launcher state format " + formatVersion
          + " is not supported: this launcher reads format " + FORMAT_VERSION);
    }
    desired = desired == null ? DesiredSnapshot.NONE : desired;
    agents = agents == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(agents));
    agents.forEach((name, record) -> {
      if (!name.equals(record.deployment())) {
        throw new IllegalArgumentException("agent entry " + name + " holds deployment "
            + record.deployment());
      }
    });
  }

  public LauncherState withDesired(DesiredSnapshot newDesired) {
    return new LauncherState(formatVersion, Objects.requireNonNull(newDesired, "desired"), agents);
  }

  public LauncherState withAgent(AgentRecord record) {
    Map<String, AgentRecord> copy = new TreeMap<>(agents);
    copy.put(record.deployment(), record);
    return new LauncherState(formatVersion, desired, copy);
  }

  public LauncherState withoutAgent(String deployment) {
    Map<String, AgentRecord> copy = new TreeMap<>(agents);
    copy.remove(deployment);
    return new LauncherState(formatVersion, desired, copy);
  }
}
