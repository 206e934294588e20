package io.infraveil.agent.main;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One supervisor per deployment: the exclusive lock on {@code DATA/agents/<deployment>/agent.lock}
 * that a running agent holds for its whole life. The kernel releases it when the process dies,
 * however it dies, so a stale lock cannot exist. After taking it the agent writes one line,
 * {@code pid=<pid> starttime=<field 22 of /proc/<pid>/stat>}, which the launcher reads to know
 * which process holds it (pid and start time, since pids are reused).
 *
 * <p>The file is never replaced (a new inode would not carry the lock), only rewritten in place;
 * a reader may briefly see it empty between the holder's truncate and write.
 */
public final class AgentLock implements AutoCloseable {

  public static final String FILE = "agent.lock";

  /** The outcome of {@link #tryAcquire}: the lock, or the line of the agent holding it. */
  public record Attempt(Optional<AgentLock> lock, String holder) {
    public Attempt {
      Objects.requireNonNull(lock, "lock");
      Objects.requireNonNull(holder, "holder");
    }

    public boolean acquired() {
      return lock.isPresent();
    }
  }

  /** Lock files held by this JVM, with the line written into each. */
  private static final Map<Path, String> HELD_IN_THIS_JVM = new ConcurrentHashMap<>();

  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private AgentLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  public static Path file(Path dataDir, String deployment) {
    return AgentDesired.agentDir(dataDir, deployment).resolve(FILE);
  }

  /**
   * Takes the lock of {@code deployment} without waiting and writes this process's line into
   * it; when another agent holds it, returns that agent's line instead (empty if it has not
   * written it yet).
   */
  public static Attempt tryAcquire(Path dataDir, String deployment) throws IOException {
    Path file = file(dataDir, deployment).toAbsolutePath().normalize();
    // fcntl locks belong to the process: opening and closing the file again in this JVM would
    // drop a lock this JVM already holds, so a second attempt here never touches the file.
    String heldHere = HELD_IN_THIS_JVM.putIfAbsent(file, "");
    if (heldHere != null) {
      return new Attempt(Optional.empty(), heldHere);
    }
    try {
      Files.createDirectories(file.getParent());
      FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE,
          StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
      if (lock == null) {
        channel.close();
        HELD_IN_THIS_JVM.remove(file);
        return new Attempt(Optional.empty(), holderLine(file));
      }
      try {
        String line = ownLine();
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        channel.force(true);
        HELD_IN_THIS_JVM.put(file, line);
        return new Attempt(Optional.of(new AgentLock(file, channel, lock)), line);
      } catch (IOException | RuntimeException e) {
        channel.close(); // releases the lock too
        throw e;
      }
    } catch (IOException | RuntimeException e) {
      HELD_IN_THIS_JVM.remove(file);
      throw e;
    }
  }

  /** The pid named by a holder line, if it names one. */
  public static Optional<Long> pid(String holderLine) {
    for (String part : holderLine.trim().split("\\s+")) {
      if (part.startsWith("pid=")) {
        try {
          return Optional.of(Long.parseLong(part.substring(4)));
        } catch (NumberFormatException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  /** {@code pid=<pid> starttime=<ticks>} of this process. */
  static String ownLine() throws IOException {
    long pid = ProcessHandle.current().pid();
    return "pid=" + pid + " starttime=" + startTimeTicks(
        Files.readString(Path.of("/proc/self/stat"), StandardCharsets.US_ASCII));
  }

  /**
   * Field 22 of a {@code /proc/<pid>/stat} line: the start time in clock ticks since boot. The
   * command name (field 2) is in parentheses and may itself hold spaces and parentheses, so
   * fields are counted from the last ')'.
   */
  static String startTimeTicks(String statLine) {
    try {
      return Long.toString(io.infraveil.host.process.ProcStat.parse(statLine).startTicks());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("no start time (field 22) in /proc stat line: "
          + statLine, e);
    }
  }

  private static String holderLine(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      return "";
    }
  }

  public Path file() {
    return file;
  }

  /** Lets go (tests; a real agent keeps it until the process ends). */
  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
      HELD_IN_THIS_JVM.remove(file);
    }
  }
}
