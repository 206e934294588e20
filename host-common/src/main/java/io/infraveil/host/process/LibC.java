package io.infraveil.host.process;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

/**
 * The C library calls that signal processes (and wait for their exit through a pidfd), bound with JNA direct mapping so that sending
 * a signal is one system call instead of forking a {@code kill} binary (which costs a fork and
 * an exec per signal, and fails when the host is out of processes or memory: exactly when a
 * runaway service must be killed).
 */
final class LibC {

  /** No such process or process group. */
  static final int ESRCH = 3;

  static {
    Native.register("c");
  }

  private LibC() {}

  static native int kill(int pid, int signal) throws LastErrorException;

  static native int killpg(int processGroup, int signal) throws LastErrorException;

  /** Interrupted system call: try again. */
  static final int EINTR = 4;
  /** pidfd_open(2) on x86-64 and arm64 alike (the syscall table they share from 424 on). */
  static final long SYS_PIDFD_OPEN = 434;
  static final short POLLIN = 0x1;

  /** {@code syscall(SYS_pidfd_open, pid, flags)}: a file descriptor readable once pid exits. */
  static native int syscall(long number, int pid, int flags) throws LastErrorException;

  /** poll(2) over {@code struct pollfd}s packed as int pairs: fd, then events | revents << 16. */
  static native int poll(int[] fds, int count, int timeoutMillis) throws LastErrorException;

  static native int close(int fd) throws LastErrorException;
}
