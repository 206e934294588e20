package io.infraveil.bench.memory;

import io.infraveil.bench.crash.CrashRestartBench;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Wall time of {@code ctl status} against a real control plane (a {@link DevStack}'s, or any
 * context file), each a fresh JVM as an operator runs it, beside {@code java -version} in the
 * same run (the JVM's own start and exit, the floor of any Java command line). Three ways: no
 * JVM options; the options {@code bin/infraveil} gives ctl ({@link #CLIENT_OPTIONS}); and those
 * with the AppCDS archive bin/infraveil makes on ctl's first run (made here the same way, into
 * the work dir, mapped where it was made) and BoringSSL's library unpacked once. Then where the time of the last way goes: the same runs with the startup trace
 * on ({@code INFRAVEIL_CTL_TIMING=1}), each step's median placed on this process's clock (the
 * trace prints {@code System.nanoTime()}, one clock for every process of a Linux machine), from
 * the process start to its exit, and the classes one run loads (from the archive or not).
 *
 * <p>Standalone: {@code CtlStatusBench [CONTEXT_FILE] [RUNS]}; without a context file it starts
 * {@code infraveil dev} on free ports.
 */
public final class CtlStatusBench {

  /** What bin/infraveil puts before ctl's main class (CTL_DEFAULTS there). */
  public static final List<String> CLIENT_OPTIONS =
      List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData");

  /** The trace's steps in order; "exit" is from the last one to the process's end. */
  static final List<String> STEPS = List.of("main", "parsed", "context", "tls", "channel",
      "connected", "answered", "printed", "exit");

  /** Medians and minimums in milliseconds, per way of running, and the traced steps. */
  public record Result(int runs, Times plain, Times client, Times archived, Times javaVersion,
      Times traced, Map<String, Double> stepMedians, int classes, int classesFromArchive) {
    public String describe() {
      StringBuilder steps = new StringBuilder();
      stepMedians.forEach((step, ms) -> steps.append(String.format(Locale.ROOT,
          "    %-10s %6.0f ms  %s%n", step, ms, meaning(step))));
      return String.format(Locale.ROOT, "ctl status wall time (%d runs each, fresh JVM each):%n"
              + "  ctl status, no options        %s%n"
              + "  ctl status, client options    %s%n"
              + "  ctl status, + AppCDS archive  %s  (goal <= 500 ms)%n"
              + "  java -version                 %s  (baseline)%n"
              + "  where the archived run's time goes (traced runs: %s; median of each step):%n"
              + "%s"
              + "  classes loaded by one run: %d, %d of them from the archive%n",
          runs, plain, client, archived, javaVersion, traced, steps, classes, classesFromArchive);
    }

    private static String meaning(String step) {
      return switch (step) {
        case "main" -> "process start -> main() (JVM start; java -version is start + exit)";
        case "parsed" -> "command line parsed (picocli)";
        case "context" -> "context file read";
        case "tls" -> "certificates and key read, TLS context built (BoringSSL loaded)";
        case "channel" -> "gRPC channel built";
        case "connected" -> "TCP + TLS handshake + HTTP/2 set-up";
        case "answered" -> "GetStatus answered";
        case "printed" -> "tables printed, channel closed";
        case "exit" -> "JVM exit";
        default -> "";
      };
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

  private record Run(double wallMs, long startNanos, long endNanos, String stderr) {}

  private CtlStatusBench() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Path work = Files.createTempDirectory("infraveil-ctl-bench");
    if (args.length > 0) {
      System.out.print(measure(Path.of(args[0]), runs, work).describe());
      return;
    }
    try (DevStack stack = DevStack.start(CrashRestartBench.repoRoot(), work.resolve("dev"))) {
      System.out.print(measure(stack, runs, work).describe());
    }
  }

  public static Result measure(DevStack stack, int runs, Path work) throws Exception {
    return measure(stack.ctlContext(), runs, work);
  }

  public static Result measure(Path context, int runs, Path work) throws Exception {
    // AppCDS takes jars only: the classpath without directories (bench classes are not needed).
    String jars = Arrays.stream(System.getProperty("java.class.path").split(":"))
        .filter(entry -> entry.endsWith(".jar")).collect(Collectors.joining(":"));
    Path archive = work.resolve("ctl.jsa");
    Files.deleteIfExists(archive);
    List<String> archiving = new ArrayList<>(CLIENT_OPTIONS);
    archiving.add("-XX:ArchiveClassesAtExit=" + archive);
    run(ctl(jars, archiving), context, false);
    List<String> archived = new ArrayList<>(CLIENT_OPTIONS);
    Path natives = unpackBoringSsl(jars, work.resolve("native"));
    if (natives != null) {
      archived.add("-Djava.library.path=" + natives);
    }
    archived.addAll(List.of("-XX:SharedArchiveFile=" + archive,
        "-XX:+UnlockDiagnosticVMOptions", "-XX:ArchiveRelocationMode=0", "-Xlog:cds=off",
        "-Xlog:cds+dynamic=off"));
    List<Double> plain = new ArrayList<>();
    List<Double> client = new ArrayList<>();
    List<Double> withArchive = new ArrayList<>();
    List<Double> version = new ArrayList<>();
    List<Double> traced = new ArrayList<>();
    Map<String, List<Double>> steps = new LinkedHashMap<>();
    for (int i = 0; i < runs; i++) {
      version.add(run(List.of(DevStack.java(), "-version"), null, false).wallMs());
      plain.add(run(ctl(jars, List.of()), context, false).wallMs());
      client.add(run(ctl(jars, CLIENT_OPTIONS), context, false).wallMs());
      withArchive.add(run(ctl(jars, archived), context, false).wallMs());
      Run trace = run(ctl(jars, archived), context, true);
      traced.add(trace.wallMs());
      steps(trace).forEach((step, ms) -> steps.computeIfAbsent(step, s -> new ArrayList<>()).add(ms));
    }
    Map<String, Double> stepMedians = new LinkedHashMap<>();
    steps.forEach((step, ms) -> stepMedians.put(step, Times.of(ms).medianMs()));
    Path classLog = work.resolve("ctl-classes.log");
    List<String> logging = new ArrayList<>(archived);
    logging.add("-Xlog:class+load=info:file=" + classLog);
    run(ctl(jars, logging), context, false);
    List<String> loaded = Files.readAllLines(classLog, StandardCharsets.UTF_8);
    int fromArchive = (int) loaded.stream().filter(line -> line.contains("shared objects file"))
        .count();
    return new Result(runs, Times.of(plain), Times.of(client), Times.of(withArchive),
        Times.of(version), Times.of(traced), stepMedians, loaded.size(), fromArchive);
  }

  /**
   * BoringSSL's native library out of its jar once, as bin/infraveil does (Netty otherwise
   * copies it to a temporary file on every run); null when no tcnative jar is on the classpath.
   */
  static Path unpackBoringSsl(String classpath, Path dir) throws IOException {
    Path found = null;
    for (String jar : classpath.split(":")) {
      if (!jar.contains("netty-tcnative-boringssl-static") || !jar.contains("-linux-")) {
        continue;
      }
      try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar)) {
        for (java.util.zip.ZipEntry entry : java.util.Collections.list(zip.entries())) {
          String name = entry.getName();
          if (name.startsWith("META-INF/native/libnetty_tcnative_linux_") && name.endsWith(".so")) {
            Files.createDirectories(dir);
            try (var in = zip.getInputStream(entry)) {
              Files.copy(in, dir.resolve(name.substring(name.lastIndexOf('/') + 1)),
                  java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            found = dir;
          }
        }
      }
    }
    return found;
  }

  /** Each step's duration from the one before, the first from the process start. */
  static Map<String, Double> steps(Run run) throws IOException {
    String line = run.stderr().lines().filter(l -> l.startsWith("ctl timing nanos:")).findFirst()
        .orElseThrow(() -> new IOException("no startup trace in ctl's stderr: " + run.stderr()));
    Map<String, Double> steps = new LinkedHashMap<>();
    long previous = run.startNanos();
    for (String pair : line.substring("ctl timing nanos:".length()).trim().split(" ")) {
      int eq = pair.indexOf('=');
      long at = Long.parseLong(pair.substring(eq + 1));
      steps.put(pair.substring(0, eq), (at - previous) / 1e6);
      previous = at;
    }
    steps.put("exit", (run.endNanos() - previous) / 1e6);
    return steps;
  }

  private static List<String> ctl(String classpath, List<String> options) {
    List<String> command = new ArrayList<>(List.of(DevStack.java()));
    command.addAll(options);
    command.addAll(List.of("-cp", classpath, "io.infraveil.cli.Main", "ctl", "status"));
    return command;
  }

  private static Run run(List<String> command, Path context, boolean trace) throws Exception {
    Path stderr = Files.createTempFile("ctl-bench", ".err");
    try {
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(stderr.toFile());
      if (context != null) {
        builder.environment().put("INFRAVEIL_CONTEXT", context.toString());
      }
      if (trace) {
        builder.environment().put("INFRAVEIL_CTL_TIMING", "1");
      }
      long start = System.nanoTime();
      Process p = builder.start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(command + " did not finish within 60 s");
      }
      long end = System.nanoTime();
      String err = Files.readString(stderr, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IOException(command + " exited " + p.exitValue() + ": " + err);
      }
      return new Run((end - start) / 1e6, start, end, err);
    } finally {
      Files.deleteIfExists(stderr);
    }
  }
}
