package io.infraveil.bench;

import com.google.protobuf.util.JsonFormat;
import io.infraveil.bench.crash.CrashRestartBench;
import io.infraveil.bench.memory.DevStack;
import io.infraveil.cli.Main;
import io.infraveil.proto.v1.GetStatusResponse;
import io.infraveil.proto.v1.PipelineRun;
import io.infraveil.proto.v1.PipelineStage;
import io.infraveil.proto.v1.PipelineStep;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Deploy → new version answering: with {@link DevStack} up ({@code infraveil dev}: control
 * plane, launcher and agents as their own processes), deploys a tiny HTTP service (python3's
 * http.server, listening within about 50 ms of its start) K+1 times through {@code ctl deploy}
 * run in this JVM, and measures from the start of each {@code ctl deploy} until the service
 * answers on its port with the new version's text, polling every 5 ms. The first deploy creates
 * the deployment (a new agent); the K after it are new versions (the agent handed over). For
 * each the bench prints the pipeline telemetry's phases (upload, placement, fetch, verify,
 * start, first healthy report), as the control plane recorded them.
 *
 * <pre>java -cp ... io.infraveil.bench.DeployLatencyBench [K=10]</pre>
 */
public final class DeployLatencyBench {

  static final String DEPLOYMENT = "latency";
  private static final Duration ANSWER_DEADLINE = Duration.ofMinutes(2);
  private static final Duration HEALTHY_DEADLINE = Duration.ofSeconds(60);
  private static final long POLL_MILLIS = 5;

  /** One deploy: the wall time figures and the pipeline run the control plane recorded. */
  public record Deploy(int index, String version, long ctlMillis, long answeringMillis,
      Optional<PipelineRun> run) {}

  /** All deploys of one run; the first created the deployment. */
  public record Result(List<Deploy> deploys) {

    /** The new versions (every deploy but the first). */
    public List<Deploy> newVersions() {
      return deploys.subList(1, deploys.size());
    }

    public String describe() {
      StringBuilder out = new StringBuilder();
      out.append(String.format(Locale.ROOT, "deploy -> new version answering (%d new versions, "
          + "tiny python3 HTTP service, polled every %d ms)%n", newVersions().size(), POLL_MILLIS));
      out.append(String.format(Locale.ROOT, "  %-4s %-6s %8s %10s   %s%n", "#", "version", "ctl ms",
          "answer ms", "pipeline phases (ms, from the control plane's telemetry)"));
      for (Deploy d : deploys) {
        out.append(String.format(Locale.ROOT, "  %-4s %-6s %8d %10d   %s%n",
            d.index() == 0 ? "new" : Integer.toString(d.index()), d.version(), d.ctlMillis(),
            d.answeringMillis(), d.run().map(DeployLatencyBench::phases).orElse("(no pipeline run)")));
      }
      long[] answering = newVersions().stream().mapToLong(Deploy::answeringMillis).sorted().toArray();
      long[] ctl = newVersions().stream().mapToLong(Deploy::ctlMillis).sorted().toArray();
      out.append(String.format(Locale.ROOT, "  answering p50 %d ms, max %d ms (goal <= 2000); "
              + "ctl deploy returned p50 %d ms, max %d ms%n",
          percentile(answering, 50), answering[answering.length - 1], percentile(ctl, 50),
          ctl[ctl.length - 1]));
      out.append("  phase medians over the new versions: ").append(phaseMedians()).append('\n');
      return out.toString();
    }

    private String phaseMedians() {
      Map<String, List<Long>> byPhase = new LinkedHashMap<>();
      for (Deploy d : newVersions()) {
        d.run().ifPresent(run -> phaseMillis(run).forEach(
            (phase, ms) -> byPhase.computeIfAbsent(phase, k -> new ArrayList<>()).add(ms)));
      }
      StringBuilder out = new StringBuilder();
      byPhase.forEach((phase, values) -> out.append(phase).append(' ').append(
          percentile(values.stream().mapToLong(Long::longValue).sorted().toArray(), 50)).append("  "));
      return out.toString().trim();
    }
  }

  private DeployLatencyBench() {}

  public static void main(String[] args) throws Exception {
    int versions = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    Path work = Files.createTempDirectory("infraveil-deploy-latency");
    try (DevStack stack = DevStack.start(CrashRestartBench.repoRoot(), work.resolve("dev"))) {
      System.out.print(measure(stack, versions, work).describe());
    }
  }

  /** Deploys the tiny service {@code versions + 1} times into {@code stack}. */
  public static Result measure(DevStack stack, int versions, Path work) throws Exception {
    int port = freePort();
    Path app = work.resolve("latency-app");
    writeApp(app, port);
    List<Deploy> deploys = new ArrayList<>();
    for (int i = 0; i <= versions; i++) {
      String version = "v" + (i + 1) + "-" + Long.toHexString(System.nanoTime());
      Files.writeString(app.resolve("VERSION"), version + "\n");
      long start = System.nanoTime();
      Ctl deployed = ctl(stack, "deploy", app.toString(), "--name", DEPLOYMENT, "--hosts", "local",
          "--payload-version", "v" + (i + 1));
      long ctlDone = System.nanoTime();
      if (deployed.code() != 0) {
        throw new IllegalStateException("ctl deploy failed: " + deployed.err() + deployed.out());
      }
      awaitAnswer(port, version, start);
      long answering = System.nanoTime();
      Optional<PipelineRun> run = awaitHealthyRun(stack, "v" + (i + 1));
      deploys.add(new Deploy(i, "v" + (i + 1), (ctlDone - start) / 1_000_000,
          (answering - start) / 1_000_000, run));
    }
    return new Result(deploys);
  }

  /** A python3 http.server answering every GET with the content of VERSION. */
  static void writeApp(Path app, int port) throws IOException {
    Files.createDirectories(app);
    Files.writeString(app.resolve("app.py"), String.join("\n",
        "import http.server, os",
        "version = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'VERSION')).read().strip()",
        "class Handler(http.server.BaseHTTPRequestHandler):",
        "    def do_GET(self):",
        "        body = (version + '\\n').encode()",
        "        self.send_response(200)",
        "        self.send_header('Content-Length', str(len(body)))",
        "        self.end_headers()",
        "        self.wfile.write(body)",
        "    def log_message(self, *args):",
        "        pass",
        "http.server.ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), Handler).serve_forever()",
        ""));
    Files.writeString(app.resolve("config.yaml"), String.join("\n",
        "services:",
        "  web:",
        "    run:",
        "      start: [ \"exec " + python() + " app.py\" ]",
        "    env:",
        "      PORT: \"" + port + "\"",
        "    healthcheck:",
        "      cmd: bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + port
            + " && printf \"GET / HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3'",
        "      test: \"200\"",
        "      interval: 5s",
        "      timeout: 3s",
        ""));
  }

  /** python3's own executable (not a version manager's shim, which costs a shell on each start). */
  static String python() throws IOException {
    try {
      Process p = new ProcessBuilder("python3", "-c", "import sys; print(sys.executable)")
          .redirectErrorStream(true).start();
      String path = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.waitFor() != 0 || path.isEmpty()) {
        throw new IOException("python3 -c 'import sys; print(sys.executable)' failed: " + path);
      }
      return path;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while asking python3 for its executable", e);
    }
  }

  private static void awaitAnswer(int port, String version, long startNanos) throws Exception {
    long deadline = startNanos + ANSWER_DEADLINE.toNanos();
    while (System.nanoTime() < deadline) {
      if (version.equals(get(port))) {
        return;
      }
      Thread.sleep(POLL_MILLIS);
    }
    throw new IllegalStateException("version " + version + " did not answer on port " + port
        + " within " + ANSWER_DEADLINE.toSeconds() + " s");
  }

  private static String get(int port) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/")
          .toURL().openConnection();
      c.setConnectTimeout(200);
      c.setReadTimeout(500);
      try (InputStream in = c.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return null;
    }
  }

  /** The pipeline run of {@code version} once it reached HEALTHY (or the last seen at the deadline). */
  private static Optional<PipelineRun> awaitHealthyRun(DevStack stack, String version) throws Exception {
    long deadline = System.nanoTime() + HEALTHY_DEADLINE.toNanos();
    Optional<PipelineRun> run = Optional.empty();
    while (System.nanoTime() < deadline) {
      run = pipelineRun(stack, version);
      if (run.isPresent() && run.get().getStepsList().stream()
          .anyMatch(s -> s.getStage() == PipelineStage.PIPELINE_STAGE_HEALTHY)) {
        return run;
      }
      Thread.sleep(200);
    }
    return run;
  }

  private static Optional<PipelineRun> pipelineRun(DevStack stack, String version) throws Exception {
    Ctl status = ctl(stack, "-o", "json", "status");
    if (status.code() != 0) {
      return Optional.empty();
    }
    GetStatusResponse.Builder response = GetStatusResponse.newBuilder();
    JsonFormat.parser().ignoringUnknownFields().merge(status.out(), response);
    return response.getPipelineList().stream()
        .filter(r -> r.getDeployment().equals(DEPLOYMENT) && r.getPayload().getVersion().equals(version))
        .findFirst();
  }

  /**
   * The run's phases in milliseconds (the control plane's breakdown); for a control plane
   * without one, the time from each step to the next, named by the step reached.
   */
  static Map<String, Long> phaseMillis(PipelineRun run) {
    Map<String, Long> out = new LinkedHashMap<>();
    if (run.getPhasesCount() > 0) {
      run.getPhasesList().forEach(p -> out.put(p.getName(), p.getMillis()));
      return out;
    }
    List<PipelineStep> steps = run.getStepsList();
    for (int i = 1; i < steps.size(); i++) {
      long ms = Duration.between(instant(steps.get(i - 1)), instant(steps.get(i))).toMillis();
      out.put(steps.get(i).getStage().name().replace("PIPELINE_STAGE_", "").toLowerCase(Locale.ROOT), ms);
    }
    return out;
  }

  static String phases(PipelineRun run) {
    StringBuilder out = new StringBuilder();
    phaseMillis(run).forEach((phase, ms) -> out.append(phase).append(' ').append(ms).append("  "));
    return out.toString().trim();
  }

  private static java.time.Instant instant(PipelineStep step) {
    return java.time.Instant.ofEpochSecond(step.getAt().getSeconds(), step.getAt().getNanos());
  }

  static long percentile(long[] sorted, int p) {
    if (sorted.length == 0) {
      return -1;
    }
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private record Ctl(int code, String out, String err) {}

  private static Ctl ctl(DevStack stack, String... args) {
    List<String> full = new ArrayList<>(List.of("ctl", "--context", stack.ctlContext().toString()));
    full.addAll(List.of(args));
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(stdout, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(stderr, true, StandardCharsets.UTF_8)) {
      code = new Main(Map.of()).execute(full.toArray(String[]::new), o, e);
    }
    return new Ctl(code, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
