package io.infraveil.host.process;

import com.sun.jna.LastErrorException;
import java.util.Objects;

/**
 * Calls back the moment a process ends, from a thread of its own that the kernel wakes: a
 * pidfd (pidfd_open(2), Linux 5.3+) polled until readable. Works for children and for processes
 * adopted from an earlier agent alike (the JDK's {@code onExit} polls every few hundred
 * milliseconds for processes that are not its children), and needs no thread hop between the
 * exit and the callback. Where pidfds are not available, {@code ProcessHandle.onExit} does it.
 */
public final class ExitWatch {

  private static final System.Logger LOG = System.getLogger(ExitWatch.class.getName());
  private ExitWatch() {}

  /**
   * Runs {@code onExit} once {@code process} has ended (at once if it already has, or if its pid
   * now names another process), on a daemon thread named {@code name}.
   */
  public static void watch(ProcessIdentity process, String name, Runnable onExit) {
    Objects.requireNonNull(process, "process");
    Objects.requireNonNull(onExit, "onExit");
    // The JVM's default stack size: the callback may do real work (a restart) on this thread.
    Thread watcher = new Thread(() -> awaitExit(process, onExit), name);
    watcher.setDaemon(true);
    watcher.start();
  }

  private static void awaitExit(ProcessIdentity process, Runnable onExit) {
    int fd;
    try {
      fd = LibC.syscall(LibC.SYS_PIDFD_OPEN, Math.toIntExact(process.pid()), 0);
    } catch (LastErrorException | UnsatisfiedLinkError | ArithmeticException e) {
      // ESRCH: gone already; ENOSYS: an old kernel. Either way the JDK can tell.
      process.find().ifPresentOrElse(h -> h.onExit().thenRun(onExit), onExit);
      return;
    }
    boolean seen;
    try {
      // The pidfd names whatever had the pid when it was opened: only ours if it still matches.
      seen = !process.isAlive() || awaitReadable(fd);
    } finally {
      try {
        LibC.close(fd);
      } catch (LastErrorException e) {
        LOG.log(System.Logger.Level.DEBUG, "close of pidfd " + fd + " failed", e);
      }
    }
    if (seen) {
      onExit.run();
    } else {
      process.find().ifPresentOrElse(h -> h.onExit().thenRun(onExit), onExit);
    }
  }

  /** True once the pidfd is readable (the process ended); false if poll(2) itself failed. */
  private static boolean awaitReadable(int fd) {
    while (true) {
      int[] pollFd = {fd, LibC.POLLIN};
      try {
        if (LibC.poll(pollFd, 1, -1) > 0) {
          return true;
        }
      } catch (LastErrorException e) {
        if (e.getErrorCode() != LibC.EINTR) {
          LOG.log(System.Logger.Level.WARNING, "poll on a pidfd failed; waiting through the JDK",
              e);
          return false;
        }
      }
    }
  }
}
