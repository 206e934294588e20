package io.infraveil.launcher;

import io.infraveil.host.fs.JsonFiles;
import io.infraveil.host.process.ProcessIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds the launcher's state at start-up so that a deployment never gets a second agent beside
 * a live one: the state file; if that cannot be read, its backup (crash histories and cooldowns
 * kept); if neither, a state rebuilt from the agent dirs. Whatever the source, every live agent
 * that holds its deployment's {@code agent.lock} is the one the state names, so it is adopted
 * instead of respawned.
 */
final class StateRecovery {

  /** Where the state came from. */
  enum Source { STATE_FILE, BACKUP, REBUILT_FROM_AGENT_DIRS, NONE }

  /**
   * The state to start from, where it came from, and what went wrong on the way.
   * {@code displaced} are live processes the state named as agents although another process
   * holds the deployment's lock: second supervisors, to be killed (never sent a stop signal,
   * which would make them stop the services the lock holder supervises).
   */
  record Recovered(LauncherState state, Source source, List<String> problems,
      List<String> adoptedFromLocks, List<ProcessIdentity> displaced) {}

  private final StateStore store;
  private final Path dataDir;

  StateRecovery(StateStore store, Path dataDir) {
    this.store = Objects.requireNonNull(store, "store");
    this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
  }

  Recovered recover() {
    List<String> problems = new ArrayList<>();
    LauncherState state = null;
    Source source = Source.NONE;
    try {
      Optional<LauncherState> loaded = store.load();
      if (loaded.isPresent()) {
        state = loaded.get();
        source = Source.STATE_FILE;
      }
    } catch (IOException e) {
      problems.add(e.getMessage());
      try {
        Optional<LauncherState> backup = store.loadBackup();
        if (backup.isPresent()) {
          state = backup.get();
          source = Source.BACKUP;
        }
      } catch (IOException backupToo) {
        problems.add(backupToo.getMessage());
      }
      if (state == null) {
        state = rebuildFromAgentDirs();
        source = Source.REBUILT_FROM_AGENT_DIRS;
      }
    }
    if (state == null) {
      state = LauncherState.EMPTY;
    }
    List<String> adopted = new ArrayList<>();
    List<ProcessIdentity> displaced = new ArrayList<>();
    state = adoptLockHolders(state, adopted, displaced);
    return new Recovered(state, source, problems, adopted, displaced);
  }

  /**
   * Nothing on record: every agent dir whose lock is held by a live agent becomes a record of
   * that agent, and its desired.json the desired entry, at revision 0 so that any desired
   * state from the control plane replaces it. Dirs without a live agent start nothing until
   * the control plane says so.
   */
  private LauncherState rebuildFromAgentDirs() {
    List<DesiredAgentSpec> desired = new ArrayList<>();
    for (Path dir : agentDirs()) {
      if (AgentLockFile.liveHolder(dir).isEmpty()) {
        continue;
      }
      readDesiredFile(dir).ifPresent(file -> desired.add(new DesiredAgentSpec(file.deployment(),
          file.payload(), file.generation(), false, file.retryMarkedBad())));
    }
    return LauncherState.EMPTY.withDesired(new DesiredSnapshot(0, desired));
  }

  private LauncherState adoptLockHolders(LauncherState state, List<String> adopted,
      List<ProcessIdentity> displaced) {
    LauncherState out = state;
    for (Path dir : agentDirs()) {
      Optional<ProcessIdentity> holder = AgentLockFile.liveHolder(dir);
      if (holder.isEmpty()) {
        continue;
      }
      String name = dir.getFileName().toString();
      AgentRecord record = out.agents().get(name);
      if (record != null && holder.get().equals(record.process())) {
        continue; // the record already names the running agent
      }
      Optional<AgentDesiredFile> file = readDesiredFile(dir);
      if (file.isEmpty() || !file.get().deployment().equals(name)) {
        continue; // nothing says what it runs; leave it to the agent-side lock
      }
      if (record != null && record.process() != null && record.process().isAlive()) {
        displaced.add(record.process());
      }
      out = out.withAgent(adopt(record == null ? AgentRecord.fresh(name) : record,
          holder.get(), file.get()));
      adopted.add(name);
    }
    return out;
  }

  /** The record with the live agent as its process; history, cooldown and hold kept. */
  private static AgentRecord adopt(AgentRecord record, ProcessIdentity agent,
      AgentDesiredFile file) {
    boolean standIn = record.heldBack() != null && file.payload().equals(record.lastKnownGood());
    return new AgentRecord(record.deployment(), agent, file.payload(), file.generation(),
        record.crashes(), record.suspendedUntil(), record.suspensions(), record.lastKnownGood(),
        "ADOPTED_FROM_AGENT_LOCK", standIn ? record.heldBack() : null);
  }

  private Optional<AgentDesiredFile> readDesiredFile(Path dir) {
    try {
      return JsonFiles.read(dir.resolve(AgentDesiredFile.FILE), AgentDesiredFile.class);
    } catch (IOException | RuntimeException unreadable) {
      return Optional.empty();
    }
  }

  private List<Path> agentDirs() {
    Path agents = dataDir.resolve("agents");
    if (!Files.isDirectory(agents)) {
      return List.of();
    }
    try (Stream<Path> dirs = Files.list(agents)) {
      return dirs.filter(Files::isDirectory).sorted().toList();
    } catch (IOException e) {
      return List.of();
    }
  }
}
