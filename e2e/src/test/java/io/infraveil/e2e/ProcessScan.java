package io.infraveil.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds processes by what they touch rather than by who started them: agents and services run in
 * their own sessions (setsid) and outlive their parents, so the only reliable trace of a test's
 * processes is a working directory or a command line under the test's directory. Linux /proc.
 */
public final class ProcessScan {

  /** A process found in /proc. */
  public record Found(long pid, Path cwd, String cmdline) {
    @Override
    public String toString() {
      String classpath = System.getProperty("java.class.path");
      return "pid " + pid + " cwd " + cwd + ": "
          + (classpath.isEmpty() ? cmdline : cmdline.replace(classpath, "<classpath>"));
    }
  }

  private ProcessScan() {}

  /**
   * Live processes (not zombies) whose working directory is under {@code root} or whose command
   * line mentions it; never this JVM.
   */
  public static List<Found> under(Path root) {
    String rootText = realPath(root).toString();
    long self = ProcessHandle.current().pid();
    List<Found> found = new ArrayList<>();
    try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"))) {
      for (Path entry : proc) {
        String name = entry.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        long pid = Long.parseLong(name);
        if (pid == self || isZombie(entry)) {
          continue;
        }
        Path cwd = null;
        try {
          cwd = Files.readSymbolicLink(entry.resolve("cwd"));
        } catch (IOException | SecurityException gone) {
          // exited meanwhile, or not ours to read
        }
        String cmdline = cmdline(entry);
        boolean cwdUnder = cwd != null && (cwd.toString().equals(rootText)
            || cwd.toString().startsWith(rootText + "/"));
        if (cwdUnder || cmdline.contains(rootText)) {
          found.add(new Found(pid, cwd, cmdline));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list /proc", e);
    }
    return found;
  }

  /** SIGKILLs every process under {@code root} until none is left or {@code timeout} passes. */
  public static List<Found> killAllUnder(Path root, Duration timeout) throws InterruptedException {
    List<Found> killed = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<Found> left = under(root);
      if (left.isEmpty()) {
        return killed;
      }
      if (System.nanoTime() > deadline) {
        return killed;
      }
      for (Found process : left) {
        if (killed.stream().noneMatch(k -> k.pid() == process.pid())) {
          killed.add(process);
        }
        ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroyForcibly);
      }
      Thread.sleep(100);
    }
  }

  /** True when {@code pid} is a live process (not a zombie). */
  public static boolean isAlive(long pid) {
    Path entry = Path.of("/proc", Long.toString(pid));
    return Files.isDirectory(entry) && !isZombie(entry);
  }

  /** TCP ports in LISTEN state on this machine (IPv4 and IPv6), from /proc/net/tcp*. */
  public static List<Integer> listeningPorts() {
    List<Integer> ports = new ArrayList<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      try {
        for (String line : Files.readAllLines(Path.of(table), StandardCharsets.US_ASCII)) {
          String[] fields = line.trim().split("\\s+");
          if (fields.length > 3 && fields[3].equals("0A")) { // 0A = TCP_LISTEN
            String local = fields[1];
            ports.add(Integer.parseInt(local.substring(local.indexOf(':') + 1), 16));
          }
        }
      } catch (IOException | RuntimeException e) {
        // no IPv6 table on this machine
      }
    }
    return ports;
  }

  private static boolean isZombie(Path entry) {
    try {
      String stat = Files.readString(entry.resolve("stat"), StandardCharsets.US_ASCII);
      int close = stat.lastIndexOf(')');
      return close > 0 && stat.length() > close + 2 && stat.charAt(close + 2) == 'Z';
    } catch (IOException | SecurityException e) {
      return true; // gone
    }
  }

  private static String cmdline(Path entry) {
    try {
      byte[] bytes = Files.readAllBytes(entry.resolve("cmdline"));
      return new String(bytes, StandardCharsets.UTF_8).replace('\0', ' ').strip();
    } catch (IOException | SecurityException e) {
      return "";
    }
  }

  static Path realPath(Path path) {
    try {
      return path.toRealPath();
    } catch (IOException e) {
      return path.toAbsolutePath().normalize();
    }
  }
}
