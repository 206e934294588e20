package io.infraveil.host.process;

import java.util.Locale;

/**
 * The signals Infraveil sends, with their Linux numbers (x86-64 and arm64 share them). Names
 * are those of {@code stop_signal} in config.yaml, with or without the {@code SIG} prefix.
 */
public enum Signal {
  HUP(1), INT(2), QUIT(3), KILL(9), USR1(10), USR2(12), TERM(15), CONT(18), STOP(19);

  private final int number;

  Signal(int number) {
    this.number = number;
  }

  public int number() {
    return number;
  }

  /** The signal named {@code name} ("TERM", "SIGTERM", "term"). */
  public static Signal named(String name) {
    String upper = name.trim().toUpperCase(Locale.ROOT);
    String bare = upper.startsWith("SIG") ? upper.substring(3) : upper;
    try {
      return valueOf(bare);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown signal '" + name + "': use one of "
          + java.util.Arrays.toString(values()), e);
    }
  }
}
