package io.infraveil.bench.storm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code infraveil controlplane} as its own process, started through the CLI's entry point as
 * {@code bin/infraveil controlplane} does (same main class and arguments, the build's classpath),
 * with the file limit raised to the hard limit. Reads its CPU time from /proc.
 */
final class ControlPlaneProcess implements AutoCloseable {

  private static final long READY_SECONDS = 180;

  private final Process process;
  private final Path log;
  private String lastHistogram = "";

  private ControlPlaneProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * Starts a control plane on data dir {@code data} and certificates {@code certs} (gRPC on
   * {@code grpcPort}, HTTPS on {@code httpPort}); returns once it printed that it is ready.
   * A port still held by a control plane that just stopped is waited out.
   */
  static ControlPlaneProcess start(Path data, Path certs, int grpcPort, int httpPort, Path log) throws Exception {
    List<String> java = new ArrayList<>(List.of(Jvm.java()));
    java.addAll(Jvm.forwardedProperties());
    java.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.infraveil.cli.Main", "controlplane",
        "--data-dir", data.toString(), "--certs", certs.toString(),
        "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort)));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_SECONDS);
    while (true) {
      Files.deleteIfExists(log);
      Process process = Jvm.withRaisedFileLimit(java).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      ControlPlaneProcess started = new ControlPlaneProcess(process, log);
      if (started.awaitReady(deadline)) {
        return started;
      }
      started.close();
      if (System.nanoTime() > deadline || !Files.readString(log).contains("Address already in use")) {
        throw new IllegalStateException("the control plane did not start; its output is in " + log);
      }
      Thread.sleep(500);
    }
  }

  private boolean awaitReady(long deadlineNanos) throws IOException, InterruptedException {
    while (System.nanoTime() < deadlineNanos) {
      if (Files.exists(log) && Files.readString(log).contains("controlplane ready")) {
        return true;
      }
      if (!process.isAlive()) {
        return false;
      }
      Thread.sleep(100);
    }
    return false;
  }

  long pid() {
    return process.pid();
  }

  /** User plus system CPU time the control plane used so far, in milliseconds. */
  long cpuMillis() throws IOException {
    return Jvm.cpuMillis(process.pid());
  }

  /**
   * The control plane's live heap: {@code jcmd PID GC.class_histogram} runs a full collection
   * and ends with the total bytes of the objects left. Also keeps the histogram's first
   * {@code rows} classes in {@link #lastHistogram()}.
   */
  long liveHeapBytes(int rows) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process run = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.class_histogram")
        .redirectErrorStream(true).start();
    List<String> lines = new String(run.getInputStream().readAllBytes()).lines().toList();
    if (run.waitFor() != 0 || lines.isEmpty() || !lines.get(lines.size() - 1).startsWith("Total")) {
      throw new IOException("jcmd GC.class_histogram of the control plane failed: " + String.join("\n", lines));
    }
    lastHistogram = String.join("\n", lines.subList(1, Math.min(lines.size(), rows + 3)));
    String[] total = lines.get(lines.size() - 1).trim().split("\\s+");
    return Long.parseLong(total[total.length - 1]);
  }

  /** The top of the class histogram {@link #liveHeapBytes} last read. */
  String lastHistogram() {
    return lastHistogram;
  }

  /** SIGTERM, as systemd stops it; waits until it is gone. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }
}
