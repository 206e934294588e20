package io.infraveil.bench.memory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code infraveil dev} in a child process on free ports: a control plane, a launcher and the
 * agent of {@code hello}, as in production. Ready once hello answers; close() stops it all.
 */
public final class DevStack implements AutoCloseable {

  private static final Duration READY = Duration.ofMinutes(4);

  private final Path data;
  private final Process process;

  private DevStack(Path data, Process process) {
    this.data = data;
    this.process = process;
  }

  /** Starts dev from checkout {@code repo} with its data under {@code data}; waits for hello. */
  public static DevStack start(Path repo, Path data) throws Exception {
    Files.createDirectories(data);
    List<String> dev = new ArrayList<>(List.of(java()));
    dev.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.infraveil.cli.Main",
        "dev", "--data-dir", data.toString(), "--grpc-port", Integer.toString(freePort()),
        "--http-port", Integer.toString(freePort()), "--hello-port",
        Integer.toString(freePort())));
    Process process = new ProcessBuilder(dev).directory(repo.toFile())
        .redirectErrorStream(true).start();
    DevStack stack = new DevStack(data, process);
    try {
      awaitLine(process, "is answering", data.resolve("dev.out"));
    } catch (Exception e) {
      stack.close();
      throw e;
    }
    return stack;
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  public Path data() {
    return data;
  }

  /** The context file for {@code ctl}. */
  public Path ctlContext() {
    return data.resolve("ctl.yaml");
  }

  public long launcherPid() throws IOException {
    return pidFromFile(data.resolve("dev.pids"), "launcher=");
  }

  public long agentPid() throws IOException {
    return pidFromFile(data.resolve("host/agents/hello/agent.lock"), "pid=");
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy(); // dev stops the launcher (its agents, their services), then the rest
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }

  /** Copies the child's output to {@code log}; returns once a line contains {@code marker}. */
  private static void awaitLine(Process process, String marker, Path log) throws Exception {
    CompletableFuture<Boolean> seen = new CompletableFuture<>();
    Thread pump = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          Files.writeString(log, line + "\n", StandardOpenOption.CREATE,
              StandardOpenOption.APPEND);
          if (line.contains(marker)) {
            seen.complete(true);
          }
        }
      } catch (IOException e) {
        seen.completeExceptionally(e);
      }
      seen.complete(false);
    }, "dev-output");
    pump.setDaemon(true);
    pump.start();
    if (!seen.get(READY.toSeconds(), TimeUnit.SECONDS)) {
      throw new IllegalStateException("dev ended before '" + marker + "' (output in " + log + ")");
    }
  }

  static long pidFromFile(Path file, String prefix) throws IOException {
    for (String token : Files.readString(file).split("[\\s,]+")) {
      if (token.startsWith(prefix)) {
        return Long.parseLong(token.substring(prefix.length()).trim());
      }
    }
    throw new IllegalStateException("no " + prefix + " in " + file);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
