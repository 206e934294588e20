package io.infraveil.launcher;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Everything the launcher persists in {@code DATA/launcher_state.json}: the last desired state
 * it accepted and, per deployment, the agent it runs. Immutable; written whole.
 *
 * <p>Format 2 added {@link AgentRecord#heldBack}; a format-1 file reads as format 2 with
 * nothing held back and is rewritten as format 2 on the next change. Format 3 added the raw
 * start ticks to each agent's process identity ({@code process.startTicks}); in older files
 * they read as unknown and {@link FileStateStore} fills them in from the live process.
 */
public record LauncherState(int formatVersion, DesiredSnapshot desired,
    Map<String, AgentRecord> agents) {

  public static final int FORMAT_VERSION = 3;
  /** Formats this launcher can read (and upgrades on read). */
  public static final int OLDEST_READABLE_FORMAT = 1;
  public static final LauncherState EMPTY =
      new LauncherState(FORMAT_VERSION, DesiredSnapshot.NONE, Map.of());

  public LauncherState {
    if (formatVersion < OLDEST_READABLE_FORMAT || formatVersion > FORMAT_VERSION) {
      throw new IllegalArgumentException("launcher state format " + formatVersion
          + " is not supported: this launcher reads formats " + OLDEST_READABLE_FORMAT + " to "
          + FORMAT_VERSION);
    }
    formatVersion = FORMAT_VERSION; // older formats differ only by absent fields
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
