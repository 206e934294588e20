package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code infraveil dev} as a process, the way a developer runs it: the control plane and the
 * launcher it starts are killed with SIGKILL, and hello keeps answering; SIGTERM leaves nothing
 * behind; a second run resumes from the data dir.
 */
class DevCommandIT {

  private static final Duration UP = Duration.ofSeconds(90);

  private Path data;
  private final List<Node> devs = new ArrayList<>();
  private int grpcPort;
  private int httpPort;
  private int helloPort;

  /**
   * Proves that dev brings hello up, restarts a killed launcher and a killed control plane while
   * hello answers every probe with the same pid, and stops everything (processes and ports) on
   * SIGTERM; a second run reuses the data dir without redeploying.
   */
  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void survivesKill9OfLauncherAndControlPlaneAndLeavesNothingBehind() throws Exception {
    Path run = Cluster.runDir("DevCommandIT");
    data = run.resolve("dev");
    grpcPort = Cluster.freePort();
    httpPort = Cluster.freePort();
    helloPort = Cluster.freePort();
    try {
      long startedAt = System.nanoTime();
      Node dev = startDev(run, "dev-1");
      await("dev prints INFRAVEIL_CONTEXT", () -> dev.log().contains("INFRAVEIL_CONTEXT="), dev);
      await("dev says hello is answering", () -> dev.log().contains("hello is answering on http://127.0.0.1:"
          + helloPort + "/"), dev);
      Cluster.timing("dev: start to hello answering (fresh data dir)",
          Duration.ofNanos(System.nanoTime() - startedAt));
      assertTrue(dev.log().contains("INFRAVEIL_CONTEXT=" + data.toRealPath().resolve("ctl.yaml")), dev.log());
      assertEquals(Optional.of("v1"), Cluster.httpGet(helloPort, "/"));
      await("the agent saved hello's pid", () -> helloPid().isPresent(), dev);
      long helloPid = helloPid().orElseThrow();

      Prober prober = new Prober();
      prober.start();
      try {
        Map<String, Long> before = pids();
        long killedAt = System.nanoTime();
        Cluster.kill9(before.get("launcher"));
        await("dev restarts the launcher", () -> restarted("launcher", before), dev);
        await("the new launcher reports host local online", this::hostOnline, dev);
        Cluster.timing("dev: kill -9 launcher to host online again",
            Duration.ofNanos(System.nanoTime() - killedAt));

        Map<String, Long> middle = pids();
        killedAt = System.nanoTime();
        Cluster.kill9(middle.get("controlplane"));
        await("dev restarts the control plane", () -> restarted("controlplane", middle), dev);
        await("the launcher reconnects to the new control plane", this::hostOnline, dev);
        Cluster.timing("dev: kill -9 control plane to host online again",
            Duration.ofNanos(System.nanoTime() - killedAt));
        assertTrue(dev.log().contains("launcher (pid " + before.get("launcher") + ") exited"), dev.log());
        assertTrue(dev.log().contains("controlplane (pid " + middle.get("controlplane") + ") exited"),
            dev.log());
      } finally {
        prober.stop();
      }
      assertTrue(prober.probes.get() > 20, "probed throughout: " + prober.probes.get());
      assertEquals(List.of(), prober.failures, "hello answered every probe");
      assertEquals(helloPid, helloPid().orElseThrow(), "hello was never restarted");

      stopAndAssertNothingLeft(dev);

      // A second run resumes: same PKI and host identity, hello not deployed again.
      Node again = startDev(run, "dev-2");
      await("the second run says hello is answering", () -> again.log().contains("hello is answering"), again);
      assertTrue(again.log().contains("not redeploying"), again.log());
      assertTrue(!again.log().contains("created a CA"), again.log());
      // hello answers before its agent has saved the new pid (that follows its confirming check).
      await("the agent saves hello's new pid", () -> helloPid().isPresent(), again);
      assertNotEquals(helloPid, helloPid().orElseThrow(), "services were stopped with the first run");
      stopAndAssertNothingLeft(again);
    } finally {
      for (Node dev : devs) {
        if (dev.isAlive()) {
          dev.kill9();
        }
      }
      ProcessScan.killAllUnder(run, Duration.ofSeconds(15));
    }
  }

  private Node startDev(Path run, String name) throws IOException {
    Node dev = Node.start(name, Cluster.mainCommand("dev", "--data-dir", data.toString(),
        "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort),
        "--hello-port", Integer.toString(helloPort)), run, run.resolve("logs").resolve(name + ".log"));
    devs.add(dev);
    return dev;
  }

  private void stopAndAssertNothingLeft(Node dev) throws Exception {
    long stoppingAt = System.nanoTime();
    assertTrue(dev.terminate(Duration.ofSeconds(60)), "dev exits after SIGTERM\n" + dev.log());
    Cluster.timing("dev: SIGTERM to everything stopped", Duration.ofNanos(System.nanoTime() - stoppingAt));
    assertTrue(dev.log().contains("dev: stopped"), dev.log());
    assertEquals(List.of(), ProcessScan.under(data), "no process left under " + data);
    List<Integer> listening = ProcessScan.listeningPorts();
    for (int port : List.of(grpcPort, httpPort, helloPort)) {
      assertTrue(!listening.contains(port), "port " + port + " still listening");
    }
  }

  private java.util.OptionalLong helloPid() {
    return Cluster.savedServicePid(data.resolve("host/agents/hello"), "hello");
  }

  /** dev.pids as a map; empty while being rewritten. */
  private Map<String, Long> pids() throws IOException {
    Map<String, Long> pids = new HashMap<>();
    for (String line : Files.readAllLines(data.resolve("dev.pids"))) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        pids.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1).strip()));
      }
    }
    return pids;
  }

  private boolean restarted(String name, Map<String, Long> before) throws IOException {
    Long now = pids().get(name);
    return now != null && !now.equals(before.get(name)) && ProcessScan.isAlive(now);
  }

  private boolean hostOnline() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(java.io.OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8)) {
      int code = new Main(Map.of()).execute(new String[] {"ctl", "--context",
          data.resolve("ctl.yaml").toString(), "-o", "json", "hosts"}, o, e);
      return code == 0 && out.toString(StandardCharsets.UTF_8).contains("\"HOST_CONNECTION_ONLINE\"");
    }
  }

  private void await(String description, Cluster.Check check, Node dev) throws InterruptedException {
    Cluster.await(description, UP, check, () -> logs(dev));
  }

  private String logs(Node dev) {
    StringBuilder text = new StringBuilder("----- dev\n").append(dev.log());
    try (Stream<Path> files = Files.walk(data)) {
      files.filter(p -> p.toString().endsWith(".log") && Files.isRegularFile(p)).sorted()
          .forEach(p -> text.append("----- ").append(data.relativize(p)).append('\n')
              .append(Cluster.tail(p, 30)));
    } catch (IOException | RuntimeException e) {
      text.append("(cannot list ").append(data).append(": ").append(e).append(")\n");
    }
    return text.toString();
  }

  /** GET / every 100 ms; every answer that is not "v1" is a failure. */
  private final class Prober {
    final AtomicInteger probes = new AtomicInteger();
    final List<String> failures = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread = new Thread(this::run, "hello-prober");

    void start() {
      thread.start();
    }

    void stop() throws InterruptedException {
      running.set(false);
      thread.join();
    }

    private void run() {
      while (running.get()) {
        Optional<String> answer = Cluster.httpGet(helloPort, "/");
        probes.incrementAndGet();
        if (!answer.equals(Optional.of("v1"))) {
          failures.add(java.time.Instant.now() + ": " + answer);
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }
}
