package io.infraveil.host.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The fields Infraveil reads from {@code /proc/PID/stat}: process group, session and the raw
 * {@code starttime} (field 22, clock ticks after boot). The start ticks never change for the
 * life of a process and do not depend on the wall clock, so unlike a start instant derived
 * from {@code /proc/stat} btime they survive a stepped system clock.
 *
 * @param pid the process id (field 1)
 * @param state the process state letter (field 3: R, S, D, Z, X, ...)
 * @param processGroup the process group id (field 5)
 * @param session the session id (field 6)
 * @param startTicks clock ticks between boot and the process start (field 22)
 */
public record ProcStat(long pid, char state, long processGroup, long session, long startTicks) {

  private static final Path PROC = Path.of("/proc");

  /** The stat of a live process (zombies included), or empty when it is gone. */
  public static Optional<ProcStat> read(long pid) {
    if (pid <= 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(parse(Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"))));
    } catch (IOException | RuntimeException gone) {
      return Optional.empty(); // the process exited between listing and reading
    }
  }

  /** The raw start ticks of a live process, or empty when it is gone. */
  public static Optional<Long> startTicksOf(long pid) {
    return read(pid).map(ProcStat::startTicks);
  }

  /**
   * True while {@code pid} exists and is not a zombie: an exited, unreaped process runs nothing
   * and holds no lock, though {@code ProcessHandle.isAlive} still counts it.
   */
  public static boolean isRunning(long pid) {
    return read(pid).filter(stat -> !stat.exited()).isPresent();
  }

  /** True while {@code pid} runs (not a zombie) and is the process that started at {@code startTicks}. */
  public static boolean isSameProcess(long pid, long startTicks) {
    return read(pid).filter(stat -> !stat.exited() && stat.startTicks() == startTicks).isPresent();
  }

  /** A zombie (Z) or dead (X) process: it has exited, only its entry is left. */
  public boolean exited() {
    return state == 'Z' || state == 'X';
  }

  /**
   * Parses one stat line. The command name (field 2) is in parentheses and may itself hold
   * spaces and parentheses, so fields are counted from the last closing parenthesis.
   */
  public static ProcStat parse(String line) {
    int close = line.lastIndexOf(')');
    if (close < 0 || close + 2 > line.length()) {
      throw new IllegalArgumentException("not a /proc/PID/stat line: " + line);
    }
    long pid = Long.parseLong(line.substring(0, line.indexOf(' ')).trim());
    // After ") ": field 3 (state) has index 0, so field N has index N - 3.
    String[] fields = line.substring(close + 2).trim().split(" ");
    if (fields.length < 20) {
      throw new IllegalArgumentException("stat line of pid " + pid + " has only "
          + (fields.length + 2) + " fields, expected at least 22");
    }
    return new ProcStat(pid, fields[0].charAt(0), Long.parseLong(fields[2]), Long.parseLong(fields[3]),
        Long.parseLong(fields[19]));
  }
}
