package io.infraveil.bench.memory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Wall time of {@code ctl status} against the real control plane of a {@link DevStack}, each a
 * fresh JVM as an operator runs it, beside {@code java -version} in the same run (the JVM's own
 * start and exit, the floor of any Java command line).
 */
public final class CtlStatusBench {

  /** Medians and minimums in milliseconds. */
  public record Result(int runs, double ctlMedianMs, double ctlMinMs, double javaMedianMs,
      double javaMinMs) {
    public String describe() {
      return String.format(Locale.ROOT, "ctl status wall time (%d runs, fresh JVM each):%n"
              + "  ctl status     median %6.0f ms  min %6.0f ms  (goal <= 500)%n"
              + "  java -version  median %6.0f ms  min %6.0f ms  (baseline)%n",
          runs, ctlMedianMs, ctlMinMs, javaMedianMs, javaMinMs);
    }
  }

  private CtlStatusBench() {}

  public static Result measure(DevStack stack, int runs) throws Exception {
    List<Double> ctl = new ArrayList<>();
    List<Double> version = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      version.add(timeMs(List.of(DevStack.java(), "-version"), null));
      ctl.add(timeMs(List.of(DevStack.java(), "-cp", System.getProperty("java.class.path"),
          "io.infraveil.cli.Main", "ctl", "status"), stack.ctlContext()));
    }
    ctl.sort(null);
    version.sort(null);
    return new Result(runs, ctl.get(runs / 2), ctl.get(0), version.get(runs / 2),
        version.get(0));
  }

  private static double timeMs(List<String> command, Path context) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    if (context != null) {
      builder.environment().put("INFRAVEIL_CONTEXT", context.toString());
    }
    long start = System.nanoTime();
    Process p = builder.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(command + " did not finish within 60 s");
    }
    long took = System.nanoTime() - start;
    if (p.exitValue() != 0) {
      throw new IOException(command + " exited " + p.exitValue());
    }
    return took / 1e6;
  }
}
