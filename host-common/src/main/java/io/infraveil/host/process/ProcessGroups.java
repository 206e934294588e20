package io.infraveil.host.process;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Starts processes as leaders of their own session and process group, and stops whole groups.
 * Signals are sent with kill(2) and killpg(2) through JNA, never by forking a binary. Starting
 * still goes through the {@code setsid} program: the JDK offers no hook to call setsid(2)
 * between fork and exec, and calling fork from Java is not safe.
 * A process in its own session outlives its parent (a launcher or agent restart leaves it
 * running), and stopping the group also stops whatever it forked.
 */
public final class ProcessGroups {

  private static final String SETSID = "setsid";

  private ProcessGroups() {}

  /** How long a start waits for {@code setsid} to make the process a group leader. */
  private static final Duration LEADER_WAIT = Duration.ofSeconds(5);

  /**
   * Starts {@code command} in a new session; stdout and stderr are appended to the given files
   * (files, not pipes, so the process survives the death of its parent). Returns once the
   * process leads its own group (or has exited): until {@code setsid} has run, a stop sent to
   * the group would reach nobody.
   */
  public static Process startInNewSession(
      List<String> command, Path workDir, Map<String, String> env, Path stdout, Path stderr)
      throws IOException {
    Objects.requireNonNull(command, "command");
    List<String> full = new ArrayList<>(command.size() + 1);
    full.add(SETSID);
    full.addAll(command);
    Files.createDirectories(stdout.toAbsolutePath().getParent());
    Files.createDirectories(stderr.toAbsolutePath().getParent());
    ProcessBuilder builder = new ProcessBuilder(full)
        .directory(workDir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(ProcessBuilder.Redirect.appendTo(stdout.toFile()))
        .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile()));
    builder.environment().putAll(env);
    Process process = builder.start();
    awaitGroupLeader(process);
    return process;
  }

  /**
   * Waits, bounded, until {@code setsid} made the process a group leader or the process is gone.
   * This takes a few milliseconds; on a machine so loaded that it takes longer than the bound,
   * the caller gets the process anyway.
   */
  private static void awaitGroupLeader(Process process) {
    long deadline = System.nanoTime() + LEADER_WAIT.toNanos();
    while (processGroupOf(process.pid()) != process.pid() && process.isAlive()
        && ProcStat.isRunning(process.pid()) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Sends a signal (for example "TERM", "KILL") to every process of group {@code pgid}, with
   * one system call. False when the group no longer exists or may not be signalled.
   */
  public static boolean signalGroup(long pgid, String signal) {
    return signalGroup(pgid, Signal.named(signal));
  }

  /** Sends {@code signal} to every process of group {@code pgid}; false when none got it. */
  public static boolean signalGroup(long pgid, Signal signal) {
    int group = checkedId(pgid, "process group");
    try {
      return LibC.killpg(group, signal.number()) == 0;
    } catch (LastErrorException e) {
      return false; // ESRCH: the group is gone; EPERM: it is not ours to signal
    }
  }

  /** Sends a signal to one process, with one system call; false when it is gone. */
  public static boolean signal(long pid, String signal) {
    return signal(pid, Signal.named(signal));
  }

  /** Sends {@code signal} to one process; false when it is gone or may not be signalled. */
  public static boolean signal(long pid, Signal signal) {
    int process = checkedId(pid, "pid");
    try {
      return LibC.kill(process, signal.number()) == 0;
    } catch (LastErrorException e) {
      return false;
    }
  }

  /**
   * Ids 0 and 1 (and negatives) mean "my own group", "init" or "every process I may signal" to
   * kill(2): a corrupt state file must never turn into one of those.
   */
  private static int checkedId(long id, String what) {
    if (id <= 1 || id > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(what + " " + id + " cannot be signalled: only ids from 2 to "
          + Integer.MAX_VALUE + " name one process or group");
    }
    return (int) id;
  }

  /**
   * Stops the group led by {@code leader}: the stop signal, up to {@code grace} for the leader
   * to exit, then SIGKILL to the whole group. Idempotent: a group already gone is fine.
   *
   * <p>Pids are reused, so the group is signalled only while it is provably the leader's: the
   * leader's pid and start time still match, or (the leader already gone) a live member of the
   * group started no earlier than the leader and no process with the leader's pid exists. A pid
   * now used by somebody else's process (which may lead a group of its own) is never signalled.
   */
  public static void stopGroup(ProcessIdentity leader, String stopSignal, Duration grace) {
    var handle = leader.find();
    if (handle.isEmpty()) {
      killOrphanedGroup(leader); // leftovers of a group whose leader already exited
      return;
    }
    signalGroup(leader.pid(), stopSignal);
    try {
      handle.get().onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception timedOutOrInterrupted) {
      if (timedOutOrInterrupted instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    }
    if (leader.isAlive()) {
      signalGroup(leader.pid(), "KILL");
      awaitExit(handle.get(), Duration.ofSeconds(5));
    } else {
      killOrphanedGroup(leader);
    }
  }

  /**
   * SIGKILL to what is left of the group of a leader that exited, only when a live member
   * proves the group is still the leader's. Linux does not hand out a pid while a process group
   * still carries it, so members whose group id is the leader's pid, started at or after the
   * leader, belong to the leader's group.
   */
  static boolean killOrphanedGroup(ProcessIdentity leader) {
    if (ProcessHandle.of(leader.pid()).map(ProcessHandle::isAlive).orElse(false)) {
      return false; // the pid names another process now: its group is not ours
    }
    if (!groupExists(leader.pid())) {
      return false; // nothing left: no scan of /proc on the way from a crash to its restart
    }
    boolean ours = groupMembers(leader.pid()).stream()
        .anyMatch(m -> m.startedNoEarlierThan(leader) && m.isAlive());
    return ours && signalGroup(leader.pid(), "KILL");
  }

  /** Whether any process is in group {@code pgid} (killpg with signal 0: one system call). */
  static boolean groupExists(long pgid) {
    int group = checkedId(pgid, "process group");
    try {
      return LibC.killpg(group, 0) == 0;
    } catch (LastErrorException e) {
      return e.getErrorCode() != LibC.ESRCH; // EPERM: it exists, though not ours to signal
    }
  }

  /** Live processes whose process group id is {@code pgid}, read from /proc. */
  public static List<ProcessIdentity> groupMembers(long pgid) {
    List<ProcessIdentity> members = new ArrayList<>();
    ProcessHandle.allProcesses().forEach(p -> {
      if (processGroupOf(p.pid()) == pgid) {
        ProcessIdentity.of(p).ifPresent(members::add);
      }
    });
    return members;
  }

  /** The process group id of {@code pid} (from /proc/PID/stat), or -1 when it is gone. */
  public static long processGroupOf(long pid) {
    return ProcStat.read(pid).map(ProcStat::processGroup).orElse(-1L);
  }

  private static void awaitExit(ProcessHandle handle, Duration timeout) {
    try {
      handle.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception ignored) {
      // Reported by the caller's next liveness check.
    }
  }

}
