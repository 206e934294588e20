package io.infraveil.host.process;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

/**
 * The two C library calls that signal processes, bound with JNA direct mapping so that sending
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
}
