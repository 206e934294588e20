package io.infraveil.launcher;

import io.infraveil.host.fs.AgentHandover;
import io.infraveil.host.process.ProcessGroups;
import io.infraveil.host.process.ProcessIdentity;
import io.infraveil.host.process.cgroup.Cgroups;
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
 * service process the agent recorded in its state file and that still runs. Last, every
 * cgroup of the deployment is killed and removed: that catches what left its process group
 * (a pm2 daemon, a double fork) and was never recorded. Without a writable cgroup hierarchy
 * that last step finds nothing to do. Blocking: run it on the deployment's worker, never on
 * the thread that reports.
 */
final class AgentStopper {

  /**
   * What a stop found; {@code servicesKilled} are pids the launcher had to kill itself,
   * {@code cgroups} what was left in the deployment's cgroups once the agent was gone.
   */
  record Outcome(boolean agentExitedInTime, List<Long> servicesKilled,
      Cgroups.KillReport cgroups) {

    Outcome {
      servicesKilled = List.copyOf(servicesKilled);
      Objects.requireNonNull(cgroups, "cgroups");
    }

    /** True when the launcher had to kill anything itself. */
    boolean forced() {
      return !agentExitedInTime || !servicesKilled.isEmpty() || cgroups.killed() > 0
          || !cgroups.leftOver().isEmpty();
    }
  }

  /** What stopping a dead agent's services did. */
  record ServicesOutcome(List<Long> recordedStopped, Cgroups.KillReport cgroups) {

    ServicesOutcome {
      recordedStopped = List.copyOf(recordedStopped);
      Objects.requireNonNull(cgroups, "cgroups");
    }
  }

  private static final Duration KILL_WAIT = Duration.ofSeconds(5);

  private final Path dataDir;
  private final Cgroups cgroups;

  /** The stopper of a host data dir, with that dir's cgroups (the agents' own naming). */
  AgentStopper(Path dataDir) {
    this(dataDir, Cgroups.system(dataDir));
  }

  AgentStopper(Path dataDir, Cgroups cgroups) {
    this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
    this.cgroups = Objects.requireNonNull(cgroups, "cgroups");
  }

  /**
   * SIGTERM to the agent's group, {@code grace}, then SIGKILL to it, to its recorded services
   * and to every process still in the deployment's cgroups.
   */
  Outcome stop(String deployment, ProcessIdentity agent, Duration grace) {
    Path agentDir = AgentDesiredFile.agentDir(dataDir, deployment);
    try {
      AgentHandover.clear(agentDir); // a stop is a stop, whatever was asked before
    } catch (java.io.IOException e) {
      // the kills below stop everything anyway
    }
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
    List<Long> killed = killServices(List.copyOf(services), Duration.ZERO);
    // The agent is gone: whatever its cgroups still hold has nobody left to stop it.
    return new Outcome(exitedInTime, killed, killCgroups(deployment, "KILL", Duration.ZERO));
  }

  /**
   * Replaces an agent without stopping its services: asks it to hand them over
   * ({@link AgentHandover}), sends SIGTERM, and waits up to {@code grace} for it to exit
   * (SIGKILL to its group after that). Its services keep running for the next agent, which
   * replaces them (several cluster indexes one at a time). True when it exited in time.
   */
  boolean handOver(String deployment, ProcessIdentity agent, Duration grace) {
    Path agentDir = AgentDesiredFile.agentDir(dataDir, deployment);
    var handle = agent.find();
    if (handle.isEmpty()) {
      return true;
    }
    try {
      AgentHandover.request(agentDir);
    } catch (java.io.IOException e) {
      // Without the marker the agent stops its services on SIGTERM: as before, still correct.
    }
    ProcessGroups.signalGroup(agent.pid(), "TERM");
    try {
      handle.get().onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception timedOut) {
      // checked below
    }
    boolean exited = !agent.isAlive();
    ProcessGroups.stopGroup(agent, "KILL", KILL_WAIT);
    return exited;
  }

  /**
   * Stops the services of a deployment whose agent is gone (suspended): SIGTERM to every
   * process in the deployment's cgroups and to each recorded service's group, {@code grace},
   * then SIGKILL to what is left.
   */
  ServicesOutcome stopServices(String deployment, ProcessIdentity deadAgent, Duration grace) {
    if (deadAgent != null) {
      ProcessGroups.stopGroup(deadAgent, "KILL", KILL_WAIT); // leftovers of the agent's group
    }
    // Cgroups first: one TERM reaches every process of the deployment at once, daemons too;
    // the recorded services are then the fallback for hosts (or processes) without cgroups.
    Cgroups.KillReport report = killCgroups(deployment, "TERM", grace);
    List<Long> stopped = killServices(
        AgentServiceProcesses.read(AgentDesiredFile.agentDir(dataDir, deployment)), grace);
    return new ServicesOutcome(stopped, report);
  }

  /** Kills the deployment's cgroups; a hierarchy that cannot be read is reported, not thrown. */
  private Cgroups.KillReport killCgroups(String deployment, String signal, Duration grace) {
    try {
      return cgroups.killDeployment(deployment, signal, grace);
    } catch (RuntimeException e) {
      return new Cgroups.KillReport(0, 0, List.of("unreadable: " + e.getMessage()));
    }
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
