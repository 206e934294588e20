package io.infraveil.bench.memory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Wall time of {@code ctl status} against the real control plane of a {@link DevStack}, each a
 * fresh JVM as an operator runs it, beside {@code java -version} in the same run (the JVM's own
 * start and exit, the floor of any Java command line). Three ways: no JVM options; the options
 * {@code bin/infraveil} gives ctl ({@link #CLIENT_OPTIONS}); and those with the AppCDS archive
 * bin/infraveil makes on ctl's first run (made here the same way, into the work dir).
 */
public final class CtlStatusBench {

  /** What bin/infraveil puts before ctl's main class (CTL_DEFAULTS there). */
  public static final List<String> CLIENT_OPTIONS =
      List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  /** Medians and minimums in milliseconds, per way of running. */
  public record Result(int runs, Times plain, Times client, Times archived, Times javaVersion) {
    public String describe() {
      return String.format(Locale.ROOT, "ctl status wall time (%d runs each, fresh JVM each):%n"
              + "  ctl status, no options        %s%n"
              + "  ctl status, client options    %s%n"
              + "  ctl status, + AppCDS archive  %s  (goal <= 500 ms)%n"
              + "  java -version                 %s  (baseline)%n",
          runs, plain, client, archived, javaVersion);
    }
  }

  public record Times(double medianMs, double minMs) {
    static Times of(List<Double> ms) {
      List<Double> sorted = ms.stream().sorted().toList();
      return new Times(sorted.get(sorted.size() / 2), sorted.get(0));
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "median %6.0f ms  min %6.0f ms", medianMs, minMs);
    }
  }

  private CtlStatusBench() {}

  public static Result measure(DevStack stack, int runs, Path work) throws Exception {
    // AppCDS takes jars only: the classpath without directories (bench classes are not needed).
    String jars = Arrays.stream(System.getProperty("java.class.path").split(":"))
        .filter(entry -> entry.endsWith(".jar")).collect(Collectors.joining(":"));
    Path archive = work.resolve("ctl.jsa");
    Files.deleteIfExists(archive);
    List<String> archiving = new ArrayList<>(CLIENT_OPTIONS);
    archiving.add("-XX:ArchiveClassesAtExit=" + archive);
    timeMs(ctl(jars, archiving), stack);
    List<String> archived = new ArrayList<>(CLIENT_OPTIONS);
    archived.addAll(List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:cds=off",
        "-Xlog:cds+dynamic=off"));
    List<Double> plain = new ArrayList<>();
    List<Double> client = new ArrayList<>();
    List<Double> withArchive = new ArrayList<>();
    List<Double> version = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      version.add(timeMs(List.of(DevStack.java(), "-version"), null));
      plain.add(timeMs(ctl(jars, List.of()), stack));
      client.add(timeMs(ctl(jars, CLIENT_OPTIONS), stack));
      withArchive.add(timeMs(ctl(jars, archived), stack));
    }
    return new Result(runs, Times.of(plain), Times.of(client), Times.of(withArchive),
        Times.of(version));
  }

  private static List<String> ctl(String classpath, List<String> options) {
    List<String> command = new ArrayList<>(List.of(DevStack.java()));
    command.addAll(options);
    command.addAll(List.of("-cp", classpath, "io.infraveil.cli.Main", "ctl", "status"));
    return command;
  }

  private static double timeMs(List<String> command, DevStack stack) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    if (stack != null) {
      builder.environment().put("INFRAVEIL_CONTEXT", stack.ctlContext().toString());
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
