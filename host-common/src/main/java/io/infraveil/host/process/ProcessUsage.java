package io.infraveil.host.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;

/**
 * Resident memory and CPU time of processes, read from the operating system: {@code VmRSS} of
 * {@code /proc/PID/status} (exact, no page-size guess) and the CPU time the JDK reports. A
 * process tree counts its descendants too, since a service's start command may fork.
 */
public record ProcessUsage(long rssBytes, Duration cpu) {

  public static final ProcessUsage NONE = new ProcessUsage(0, Duration.ZERO);

  public ProcessUsage plus(ProcessUsage other) {
    return new ProcessUsage(rssBytes + other.rssBytes, cpu.plus(other.cpu));
  }

  /** One process, or NONE when it is gone. */
  public static ProcessUsage of(ProcessHandle process) {
    long rss = residentBytes(process.pid()).orElse(0L);
    Duration cpu = process.info().totalCpuDuration().orElse(Duration.ZERO);
    return new ProcessUsage(rss, cpu);
  }

  /** A process and all its live descendants. */
  public static ProcessUsage ofTree(ProcessHandle root) {
    ProcessUsage total = of(root);
    for (ProcessHandle child : (Iterable<ProcessHandle>) root.descendants()::iterator) {
      total = total.plus(of(child));
    }
    return total;
  }

  /** The trees of the given live processes (identities that no longer match count as nothing). */
  public static ProcessUsage ofTrees(Collection<ProcessIdentity> roots) {
    ProcessUsage total = NONE;
    for (ProcessIdentity root : roots) {
      total = total.plus(root.find().map(ProcessUsage::ofTree).orElse(NONE));
    }
    return total;
  }

  /** VmRSS of a process in bytes, when /proc has it. */
  public static Optional<Long> residentBytes(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.substring("VmRSS:".length()).trim().split("\\s+");
          return Optional.of(Long.parseLong(parts[0]) * 1024L); // the kernel reports kB
        }
      }
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
