package io.infraveil.bench.storm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starting the storm's child JVMs, and reading a process's CPU time. */
final class Jvm {

  /** Linux's USER_HZ: /proc/PID/stat counts CPU time in these ticks on every current kernel. */
  private static final long TICKS_PER_SECOND = 100;

  private Jvm() {}

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * This JVM's {@code infraveil.*} and {@code io.netty.*} system properties, as options for a
   * child: a storm run with {@code -Dinfraveil.grpc.max-concurrent-handshakes=…} or the JDK's
   * TLS gives the same to the control plane and the hosts.
   */
  static List<String> forwardedProperties() {
    List<String> options = new ArrayList<>();
    System.getProperties().stringPropertyNames().stream().sorted()
        .filter(name -> name.startsWith("infraveil.") || name.startsWith("io.netty."))
        .forEach(name -> options.add("-D" + name + "=" + System.getProperty(name)));
    return options;
  }

  /**
   * The command run through {@code sh} with its soft file limit raised to the hard one: a
   * process holding thousands of sockets needs more than the usual soft limit.
   */
  static ProcessBuilder withRaisedFileLimit(List<String> command) {
    List<String> shell = new ArrayList<>(List.of("sh", "-c", "ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec \"$@\"", "sh"));
    shell.addAll(command);
    return new ProcessBuilder(shell);
  }

  /** utime + stime of process {@code pid}, in milliseconds. */
  static long cpuMillis(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    // Fields after the command name, which is in parentheses and may hold spaces.
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14, 15)
    return ticks * 1000 / TICKS_PER_SECOND;
  }

  /** The 1-minute load average now. */
  static String loadAverage() throws IOException {
    return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
  }
}
