package io.infraveil.launcher;

import io.infraveil.host.process.ProcessGroups;
import io.infraveil.host.process.ProcessIdentity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Stops a deployment's agent so that nothing of the deployment is left: the agent gets its own
 * stop (it stops its services in parallel, each within its stop_timeout) for {@code grace};
 * an agent that has not exited by then is killed with its process group, and so is every
 * service process the agent recorded in its state file and that still runs. Blocking: run it
 * on the deployment's worker, never on the thread that reports.
 */
final class AgentStopper {

  /** What a stop found; {@code servicesKilled} are pids the launcher had to kill itself. */
  record Outcome(boolean agentExitedInTime, List<Long> servicesKilled) {}

  private static final Duration KILL_WAIT = Duration.ofSeconds(5);

  private final Path dataDir;

  AgentStopper(Path dataDir) {
    this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
  }

  /** SIGTERM to the agent's group, {@code grace}, then SIGKILL to it and to its services. */
  Outcome stop(String deployment, ProcessIdentity agent, Duration grace) {
    Path agentDir = AgentDesiredFile.agentDir(dataDir, deployment);
    // Read before the stop too: an agent killed half-way may have dropped entries already.
    Set<AgentServiceProcesses.Recorded> services =
        new LinkedHashSet<>(AgentServiceProcesses.read(agentDir));
    boolean exitedInTime = true;
    var handle = agent.find();
    if (handle.isPresent()) {
      ProcessGroups.signalGroup(agent.pid(), "TERM");
      try {
        handle.get().onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception timedOut) {
        // checked below
      }
      exitedInTime = !agent.isAlive();
    }
    // SIGKILL to whatever is left of the agent's group (identity-checked by ProcessGroups).
    ProcessGroups.stopGroup(agent, "KILL", KILL_WAIT);
    services.addAll(AgentServiceProcesses.read(agentDir));
    return new Outcome(exitedInTime, killServices(List.copyOf(services), Duration.ZERO));
  }

  /**
   * Stops the recorded services of a deployment whose agent is gone (suspended): the stop
   * signal, {@code grace}, then SIGKILL to each service's group. Returns the pids stopped.
   */
  List<Long> stopServices(String deployment, ProcessIdentity deadAgent, Duration grace) {
    if (deadAgent != null) {
      ProcessGroups.stopGroup(deadAgent, "KILL", KILL_WAIT); // leftovers of the agent's group
    }
    return killServices(AgentServiceProcesses.read(AgentDesiredFile.agentDir(dataDir, deployment)),
        grace);
  }

  private static List<Long> killServices(List<AgentServiceProcesses.Recorded> recorded,
      Duration grace) {
    List<AgentServiceProcesses.Recorded> alive = recorded.stream()
        .filter(AgentServiceProcesses.Recorded::isAlive).toList();
    if (!grace.isZero()) {
      alive.forEach(p -> signalGroupOrProcess(p.pid(), "TERM"));
      long deadline = System.nanoTime() + grace.toNanos();
      while (alive.stream().anyMatch(AgentServiceProcesses.Recorded::isAlive)
          && System.nanoTime() < deadline) {
        sleep(20);
      }
    }
    List<Long> stopped = new ArrayList<>();
    for (AgentServiceProcesses.Recorded p : alive) {
      if (p.isAlive()) {
        signalGroupOrProcess(p.pid(), "KILL");
      }
      stopped.add(p.pid());
    }
    long deadline = System.nanoTime() + KILL_WAIT.toNanos();
    while (alive.stream().anyMatch(AgentServiceProcesses.Recorded::isAlive)
        && System.nanoTime() < deadline) {
      sleep(10);
    }
    return stopped;
  }

  /** A service started as a group leader is stopped with its group; else the process alone. */
  private static void signalGroupOrProcess(long pid, String signal) {
    if (ProcessGroups.processGroupOf(pid) == pid) {
      ProcessGroups.signalGroup(pid, signal);
    } else {
      ProcessGroups.signal(pid, signal);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
