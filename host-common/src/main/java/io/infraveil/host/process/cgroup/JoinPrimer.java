package io.infraveil.host.process.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Starts the kernel's wait for a cgroup join ahead of the join itself, so that the wait runs
 * while a crashed service's replacement is being forked instead of after.
 *
 * <p>Moving a process between cgroups write-locks the kernel's global
 * {@code cgroup_threadgroup_rwsem}; taking it from its idle state waits for an RCU grace period
 * (milliseconds on a busy host), and once released it stays ready for writers for about one
 * more grace period (rcu_sync). Hosts mounted with {@code favordynmods} keep it ready always.
 * {@link #prime()} moves this process into the cgroup it is already in (no process changes
 * cgroup; the kernel still takes the lock) on a thread of its own; the replacement's join,
 * a few milliseconds later, then finds the lock ready or already on its way.
 *
 * <p>Only a speed-up: a failed write (another layout, a cgroup the agent may not write) is
 * ignored, and at most one priming runs at a time.
 */
public final class JoinPrimer {

  private static final System.Logger LOG = System.getLogger(JoinPrimer.class.getName());

  private final Path trackingRoot;
  private final Path selfCgroupFile;
  private final AtomicBoolean running = new AtomicBoolean();

  /** For the tracking hierarchy of {@code layout}; primes nothing where it has none. */
  public JoinPrimer(CgroupLayout layout) {
    this(Objects.requireNonNull(layout, "layout").tracking().map(Path::getParent).orElse(null),
        Path.of("/proc/self/cgroup"));
  }

  JoinPrimer(Path trackingRoot, Path selfCgroupFile) {
    this.trackingRoot = trackingRoot;
    this.selfCgroupFile = Objects.requireNonNull(selfCgroupFile, "selfCgroupFile");
  }

  /** Starts a priming on a daemon thread unless one is running; returns at once. */
  public void prime() {
    if (trackingRoot == null || !running.compareAndSet(false, true)) {
      return;
    }
    Thread thread = new Thread(() -> {
      try {
        primeNow();
      } finally {
        running.set(false);
      }
    }, "cgroup-join-primer");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Writes this process's pid into the {@code cgroup.procs} of its own cgroup in the tracking
   * hierarchy (read from {@code /proc/self/cgroup} just before); the file written, or empty
   * when there was none to write or the kernel refused.
   */
  Optional<Path> primeNow() {
    if (trackingRoot == null) {
      return Optional.empty();
    }
    try {
      Optional<Path> procs = ownProcsFile();
      if (procs.isEmpty()) {
        return Optional.empty();
      }
      Files.writeString(procs.get(), Long.toString(ProcessHandle.current().pid()));
      return procs;
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "cgroup join priming skipped: " + e.getMessage());
      return Optional.empty();
    }
  }

  /** {@code <tracking root><path>/cgroup.procs} from the v2 line {@code 0::<path>}. */
  private Optional<Path> ownProcsFile() throws IOException {
    for (String line : Files.readAllLines(selfCgroupFile)) {
      if (line.startsWith("0::/")) {
        Path procs = trackingRoot.resolve(line.substring("0::/".length())).resolve(
            "cgroup.procs").normalize();
        return procs.startsWith(trackingRoot) && Files.isRegularFile(procs) ? Optional.of(procs)
            : Optional.empty();
      }
    }
    return Optional.empty();
  }
}
