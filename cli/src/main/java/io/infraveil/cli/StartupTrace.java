package io.infraveil.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

/**
 * Where the time of a short command goes, when {@value #ENV} is set: each step marks when it was
 * reached ({@code main}, {@code parsed}, {@code context}, {@code tls}, {@code channel},
 * {@code connected}, {@code answered}, {@code printed}) and at the end one line on stderr gives
 * them in milliseconds since the process started (as the kernel counts, in 10 ms steps). A second line
 * gives the raw {@link System#nanoTime()} of each step, a clock shared by the processes of a
 * Linux machine, so a benchmark that started the process can place the steps on its own clock.
 * Unset, marking costs one static boolean check.
 */
public final class StartupTrace {

  /** Environment variable that turns the trace on. */
  public static final String ENV = "INFRAVEIL_CTL_TIMING";
  /** Prefix of the line with raw nanoTime values (read by the ctl benchmark). */
  public static final String NANOS_PREFIX = "ctl timing nanos:";

  private static final boolean ON = isSet(System.getenv(ENV));
  private static final List<String> STEPS = new ArrayList<>();
  private static final List<Long> NANOS = new ArrayList<>();

  private StartupTrace() {}

  /** True when the trace is on (ctl then also connects before its first call, to time TLS). */
  public static boolean on() {
    return ON;
  }

  /** Notes that {@code step} was reached now. */
  public static void mark(String step) {
    if (ON) {
      long now = System.nanoTime();
      synchronized (STEPS) {
        STEPS.add(step);
        NANOS.add(now);
      }
    }
  }

  /** Prints the trace, if on and anything was marked. */
  static void print(PrintStream err) {
    if (!ON) {
      return;
    }
    // The process's start as the kernel has it (10 ms steps); java.lang.management would load
    // a few hundred classes more into what is measured.
    long now = System.nanoTime();
    long sinceStart = ProcessHandle.current().info().startInstant()
        .map(start -> (System.currentTimeMillis() - start.toEpochMilli()) * 1_000_000L).orElse(0L);
    long jvmStart = now - sinceStart;
    StringJoiner human = new StringJoiner(", ", "ctl timing (ms since the process started): ", "");
    StringJoiner raw = new StringJoiner(" ", NANOS_PREFIX + " ", "");
    synchronized (STEPS) {
      long previous = jvmStart;
      for (int i = 0; i < STEPS.size(); i++) {
        long at = NANOS.get(i);
        human.add(String.format(Locale.ROOT, "%s %.0f (+%.0f)", STEPS.get(i),
            (at - jvmStart) / 1e6, (at - previous) / 1e6));
        raw.add(STEPS.get(i) + "=" + at);
        previous = at;
      }
    }
    err.println(human);
    err.println(raw);
  }

  private static boolean isSet(String value) {
    return value != null && !value.isBlank() && !value.equals("0") && !value.equals("false");
  }
}
