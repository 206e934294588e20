package io.infraveil.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Reads the raw {@code starttime} (field 22 of {@code /proc/PID/stat}, clock ticks since boot)
 * that the agent-lock contract names. Unlike a wall-clock start instant it does not move when
 * the system clock is stepped, so a pid and this value name one process for its whole life.
 */
final class ProcStat {

  private ProcStat() {}

  /** The raw start time of a live process, or empty when there is no such process. */
  static OptionalLong starttime(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count fields
      // after the last ')'; field 3 (state) is at index 0, field 22 at index 19.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      if ("Z".equals(fields[0]) || "X".equals(fields[0])) {
        return OptionalLong.empty(); // a zombie runs nothing and holds no lock
      }
      return OptionalLong.of(Long.parseLong(fields[19]));
    } catch (IOException | RuntimeException gone) {
      return OptionalLong.empty();
    }
  }

  /** True while {@code pid} exists and is not a zombie (an exited, unreaped process). */
  static boolean isRunning(long pid) {
    return starttime(pid).isPresent();
  }

  /** True while {@code pid} runs and is the process that started at {@code starttime}. */
  static boolean isSameProcess(long pid, long starttime) {
    OptionalLong now = starttime(pid);
    return now.isPresent() && now.getAsLong() == starttime;
  }
}
