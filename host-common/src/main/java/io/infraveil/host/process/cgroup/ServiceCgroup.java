package io.infraveil.host.process.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The cgroup of one service instance ({@code <service>-<cluster index>}): in the v2 tree for
 * tracking and, in the hybrid layout, one directory per v1 controller for limits. A process
 * joins by writing its pid to every {@link #procsFiles()} entry before it runs the service's
 * command; whatever it forks afterwards (a daemon, a double fork, a pm2 God process) stays in.
 *
 * <p>Methods do blocking file I/O and may wait; call them off timers.
 */
public final class ServiceCgroup {

  /** How a {@link #stop} ended. */
  public enum StopOutcome {
    /** Nothing was running. */
    ALREADY_EMPTY,
    /** Every process exited after the stop signal, within the grace period. */
    EXITED_ON_SIGNAL,
    /** Some ignored the stop signal and were killed ({@code cgroup.kill} or SIGKILL each). */
    KILLED,
    /** Processes remained even after the kill (for example stuck in the kernel). */
    LEFT_OVER
  }

  private static final Duration KILL_WAIT = Duration.ofSeconds(5);
  private static final long CPU_PERIOD_US = 100_000;

  private final String name;
  private final Path tracking;
  private final Path trackingRoot;
  private final Map<String, Path> v1;

  ServiceCgroup(CgroupLayout layout, String relativeName) {
    Objects.requireNonNull(layout, "layout");
    if (!layout.tracks()) {
      throw new IllegalStateException("no writable cgroup hierarchy: " + layout.description());
    }
    this.name = CgroupLayout.TOP + "/" + relativeName;
    this.trackingRoot = layout.tracking().orElseThrow();
    this.tracking = trackingRoot.resolve(relativeName);
    Map<String, Path> dirs = new LinkedHashMap<>();
    layout.v1().forEach((controller, top) -> dirs.put(controller, top.resolve(relativeName)));
    this.v1 = dirs;
  }

  /** {@code infraveil/<host key>/<deployment>/<service>-<index>}, as in every hierarchy. */
  public String name() {
    return name;
  }

  /** The tracking (v2) directory. */
  public Path path() {
    return tracking;
  }

  /**
   * Creates the directories (idempotent) and sets the limits, clearing any not given.
   *
   * @throws IOException naming the file and value that the kernel refused
   */
  public void create(CgroupLimits limits) throws IOException {
    Objects.requireNonNull(limits, "limits");
    Files.createDirectories(tracking);
    for (Path dir : v1.values()) {
      Files.createDirectories(dir);
    }
    if (v1.isEmpty()) {
      Controllers.enableBelow(trackingRoot.getParent(), tracking.getParent());
      writeIfPresent(tracking.resolve("memory.max"), limits.memoryBytes().isPresent()
          ? Long.toString(limits.memoryBytes().getAsLong()) : "max", limits.memoryBytes().isPresent());
      if (limits.memoryBytes().isPresent()) {
        writeIfPresent(tracking.resolve("memory.swap.max"), "0", false);
      }
      writeIfPresent(tracking.resolve("cpu.max"), limits.cpus().isPresent()
          ? quota(limits.cpus().getAsDouble()) + " " + CPU_PERIOD_US : "max " + CPU_PERIOD_US,
          limits.cpus().isPresent());
      writeIfPresent(tracking.resolve("pids.max"), limits.pids().isPresent()
          ? Long.toString(limits.pids().getAsLong()) : "max", limits.pids().isPresent());
      return;
    }
    Path memory = v1.get("memory");
    if (memory != null) {
      // memsw must stay >= the limit: open it up, set the limit, then match it.
      writeIfPresent(memory.resolve("memory.memsw.limit_in_bytes"), "-1", false);
      String bytes = limits.memoryBytes().isPresent()
          ? Long.toString(limits.memoryBytes().getAsLong()) : "-1";
      write(memory.resolve("memory.limit_in_bytes"), bytes);
      if (limits.memoryBytes().isPresent()) {
        writeIfPresent(memory.resolve("memory.memsw.limit_in_bytes"), bytes, false);
      }
    } else if (limits.memoryBytes().isPresent()) {
      throw new IOException("cannot enforce the memory limit: no writable v1 memory hierarchy");
    }
    Path cpu = v1.get("cpu");
    if (cpu != null) {
      write(cpu.resolve("cpu.cfs_period_us"), Long.toString(CPU_PERIOD_US));
      write(cpu.resolve("cpu.cfs_quota_us"), limits.cpus().isPresent()
          ? Long.toString(quota(limits.cpus().getAsDouble())) : "-1");
    } else if (limits.cpus().isPresent()) {
      throw new IOException("cannot enforce the cpu limit: no writable v1 cpu hierarchy");
    }
    Path pids = v1.get("pids");
    if (pids != null) {
      write(pids.resolve("pids.max"), limits.pids().isPresent()
          ? Long.toString(limits.pids().getAsLong()) : "max");
    } else if (limits.pids().isPresent()) {
      throw new IOException("cannot enforce the pids limit: no writable v1 pids hierarchy");
    }
  }

  /** The files a process writes its own pid to, in order, to join this cgroup. */
  public List<Path> procsFiles() {
    List<Path> files = new ArrayList<>();
    files.add(tracking.resolve("cgroup.procs"));
    v1.values().forEach(dir -> files.add(dir.resolve("cgroup.procs")));
    return files;
  }

  /** Pids of the live processes in the cgroup (empty when it does not exist). */
  public List<Long> pids() {
    try {
      List<Long> pids = new ArrayList<>();
      for (String line : Files.readAllLines(tracking.resolve("cgroup.procs"))) {
        if (!line.isBlank()) {
          pids.add(Long.parseLong(line.trim()));
        }
      }
      return pids;
    } catch (NoSuchFileException gone) {
      return List.of();
    } catch (IOException | NumberFormatException e) {
      return List.of();
    }
  }

  /** True while any process is in the cgroup ({@code cgroup.events}: populated 1). */
  public boolean populated() {
    try {
      for (String line : Files.readAllLines(tracking.resolve("cgroup.events"))) {
        if (line.startsWith("populated ")) {
          return line.endsWith(" 1");
        }
      }
    } catch (IOException gone) {
      return false;
    }
    return !pids().isEmpty();
  }

  /**
   * How many times the kernel's OOM killer has killed a process of this cgroup since it was
   * created ({@code memory.events oom_kill} in v2, {@code memory.oom_control oom_kill} in v1).
   */
  public long oomKills() {
    Path file = v1.containsKey("memory") ? v1.get("memory").resolve("memory.oom_control")
        : tracking.resolve("memory.events");
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith("oom_kill ")) {
          return Long.parseLong(line.substring("oom_kill ".length()).trim());
        }
      }
    } catch (IOException | NumberFormatException unavailable) {
      return 0;
    }
    return 0;
  }

  /** Sends a signal ("TERM", "INT", ...) to every process in the cgroup. */
  public void signalAll(String signal) {
    Signals.send(pids(), signal);
  }

  /** Kills every process: {@code cgroup.kill} where the kernel has it, else SIGKILL to each. */
  public void kill() {
    Path killFile = tracking.resolve("cgroup.kill");
    if (Files.exists(killFile)) {
      try {
        Files.writeString(killFile, "1");
        return;
      } catch (IOException e) {
        // fall through to one SIGKILL per process
      }
    }
    // Without cgroup.kill a forking process may add members between reads: repeat.
    for (int round = 0; round < 20 && populated(); round++) {
      Signals.send(pids(), "KILL");
      sleep(Duration.ofMillis(10));
    }
  }

  /**
   * Stops everything in the cgroup as systemd's {@code KillMode=control-group}: {@code signal}
   * to every process, up to {@code grace} for all to exit, then a kill of what is left.
   */
  public StopOutcome stop(String signal, Duration grace) {
    if (!populated()) {
      return StopOutcome.ALREADY_EMPTY;
    }
    signalAll(signal);
    if (awaitEmpty(grace)) {
      return StopOutcome.EXITED_ON_SIGNAL;
    }
    kill();
    return awaitEmpty(KILL_WAIT) ? StopOutcome.KILLED : StopOutcome.LEFT_OVER;
  }

  /**
   * Moves every process of this cgroup into {@code target} (created first, without limits),
   * in every hierarchy, so that a new process can take this cgroup's place while the old ones
   * run on beside it. A process that forks while it moves may leave a child behind for a
   * moment: the move repeats until this cgroup is empty.
   *
   * @throws IOException naming the process and file when the kernel refuses a move
   */
  public void moveAllTo(ServiceCgroup target) throws IOException {
    Objects.requireNonNull(target, "target");
    target.create(CgroupLimits.NONE);
    List<Path> from = procsFiles();
    List<Path> to = target.procsFiles();
    if (from.size() != to.size()) {
      throw new IOException("cannot move " + name + " to " + target.name
          + ": they span different hierarchies");
    }
    for (int round = 0; round < 50 && populated(); round++) {
      for (long pid : pids()) {
        for (Path procs : to) {
          try {
            Files.writeString(procs, Long.toString(pid));
          } catch (IOException e) {
            if (Files.exists(Path.of("/proc", Long.toString(pid)))) {
              throw new IOException("cannot move process " + pid + " to " + procs + ": "
                  + e.getMessage(), e);
            }
          }
        }
      }
      if (populated()) {
        sleep(Duration.ofMillis(5));
      }
    }
    if (populated()) {
      throw new IOException("processes " + pids() + " of " + name + " kept appearing while"
          + " they were moved to " + target.name);
    }
  }

  /** Waits up to {@code timeout} for the cgroup to be empty; true when it is. */
  public boolean awaitEmpty(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (populated()) {
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      sleep(Duration.ofMillis(10));
    }
    return true;
  }

  /** Removes the directories when empty; false when processes are still inside. */
  public boolean remove() {
    if (populated()) {
      return false;
    }
    boolean removed = Cgroups.rmdir(tracking);
    for (Path dir : v1.values()) {
      removed &= Cgroups.rmdir(dir);
    }
    return removed;
  }

  private static long quota(double cpus) {
    return Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
  }

  private static void write(Path file, String value) throws IOException {
    try {
      Files.writeString(file, value);
    } catch (IOException e) {
      throw new IOException("cannot write \"" + value + "\" to " + file + ": " + e.getMessage(), e);
    }
  }

  /** Writes when the file exists; a missing file is an error only when {@code required}. */
  private static void writeIfPresent(Path file, String value, boolean required)
      throws IOException {
    if (Files.exists(file)) {
      write(file, value);
    } else if (required) {
      throw new IOException("cannot enforce " + file.getFileName() + ": the controller is not"
          + " enabled for " + file.getParent());
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
