package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real processes sharing one port with SO_REUSEPORT: an agent that takes over the running
 * instances of a previous agent (a handover for a new version or a restart) replaces a service
 * of two clusters one index at a time, each new process healthy before the old one of its
 * index stops, so a client probing every 100 ms never misses; with one cluster the old process
 * stops before the new one starts; a new version whose instance fails still rolls back.
 */
class ClusterReplacementTest {

  private static final String V1 = "1".repeat(64);
  private static final String V2 = "2".repeat(64);

  /**
   * An HTTP server on the shared http port (SO_REUSEPORT) and on its instance's own admin port
   * (dynamic, per cluster index: the health check asks that one, so it tells which instance is
   * up, which the shared port cannot); notes "start V I" and, on SIGTERM, "stop V I" in
   * ORDER_LOG. It takes every waiting connection and closes its listener at once, so none waits
   * in a queue that is about to be dropped.
   */
  private static final String SERVER = """
      import os, select, signal, socket, sys, threading
      version, index = sys.argv[1], os.environ["INFRAVEIL_CLUSTER_INDEX"]
      def note(what):
          with open(os.environ["ORDER_LOG"], "a") as f:
              f.write(what + " " + version + " " + index + "\\n")
      if version == "broken" and index == "0":
          sys.exit(3)
      def listener(port, shared):
          s = socket.socket()
          s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
          if shared:
              s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
          s.bind(("127.0.0.1", port))
          s.listen(128)
          s.setblocking(False)
          return s
      # The shared port first: once the instance's own admin port answers, it serves.
      http = listener(int(os.environ["INFRAVEIL_PORT_HTTP"]), True)
      admin = listener(int(os.environ["INFRAVEIL_PORT_ADMIN"]), False)
      running = [True]
      def term(*_):
          note("stop")
          running[0] = False
      signal.signal(signal.SIGTERM, term)
      def serve(conn):
          try:
              conn.setblocking(True)
              conn.recv(4096)
              body = (version + " " + index + "\\n").encode()
              conn.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: " + str(len(body)).encode()
                           + b"\\r\\n\\r\\n" + body)
          except OSError:
              pass
          finally:
              conn.close()
      def accept_all(s):
          while True:
              try:
                  conn, _ = s.accept()
              except (BlockingIOError, InterruptedError):
                  return
              threading.Thread(target=serve, args=(conn,)).start()
      note("start")
      while running[0]:
          try:
              ready, _, _ = select.select([http, admin], [], [], 0.05)
          except InterruptedError:
              continue
          for s in ready:
              accept_all(s)
      # Leave the group with nothing queued: take what waits, then close at once.
      accept_all(http)
      http.close()
      admin.close()
      """;

  @TempDir Path tmp;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private final List<Supervisor> supervisors = new ArrayList<>();
  private final Map<String, Path> releases = new HashMap<>();
  private final AgentSettings settings = AgentSettings.defaults()
      .withStartWatch(Duration.ofMillis(300))
      .withHealing(8, Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofMinutes(10))
      .withVersions(Duration.ofMillis(300), 4, Duration.ofMinutes(10))
      .withTick(Duration.ofMillis(50));
  private int port;
  private Path orderLog;

  @AfterEach
  void tearDown() {
    supervisors.forEach(s -> {
      s.stop();
      s.close();
    });
    scheduler.shutdownNow();
  }

  private void release(String sha, String version, int clusters) throws IOException {
    Path dir = tmp.resolve("release-" + version + "-" + sha.substring(0, 4));
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("server.py"), SERVER);
    Files.writeString(dir.resolve("config.yaml"), """
        services:
          web:
            clusters: %d
            ports: { http: %d, admin: auto }
            env: { ORDER_LOG: "%s" }
            run:
              start: [ "exec python3 server.py %s" ]
            healthcheck:
              cmd: "python3 -c \\"import socket; socket.create_connection(('127.0.0.1', ${INFRAVEIL_PORT_ADMIN}), 1).close()\\""
              interval: 200ms
              timeout: 2s
              start_period: 10s
            stop_timeout: 3s
        """.formatted(clusters, port, orderLog, version));
    releases.put(sha, dir);
  }

  private Supervisor supervisor() throws IOException {
    Path agentDir = tmp.resolve("agent");
    Supervisor s = new Supervisor(agentDir, sha -> {
      Path dir = releases.get(sha);
      if (dir == null) {
        throw new IOException("no release " + sha);
      }
      return dir;
    }, settings, Clock.systemUTC(), scheduler, new FileAgentStateStore(agentDir),
        Containment.standalone(agentDir), ServiceSecrets.NONE,
        new InstanceContext("host-a", "web", Map.of()), FreePorts.SYSTEM);
    supervisors.add(s);
    return s;
  }

  /** The previous agent lets go as on a handover: its services keep running. */
  private void handOver(Supervisor s) {
    s.close();
    supervisors.remove(s);
  }

  private static void await(String what, BooleanSupplier condition) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private static boolean healthyOn(Supervisor s, String sha) {
    AgentSnapshot snap = s.snapshot();
    return snap.sha256().map(sha::equals).orElse(false) && snap.service("web")
        .map(w -> w.state() == ServiceState.RUNNING && w.health() == Health.HEALTHY)
        .orElse(false);
  }

  private List<String> order() {
    try {
      return Files.exists(orderLog) ? Files.readAllLines(orderLog) : List.of();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Probes every 100 ms until stopped; counts answers and misses. */
  private final class Prober implements AutoCloseable {
    final AtomicInteger answered = new AtomicInteger();
    final List<String> missed = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread = new Thread(this::run, "prober");

    Prober() {
      thread.start();
    }

    private void run() {
      while (running.get()) {
        long next = System.nanoTime() + 100_000_000L;
        try (Socket socket = new Socket()) {
          socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
          socket.setSoTimeout(2000);
          OutputStream out = socket.getOutputStream();
          out.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          InputStream in = socket.getInputStream();
          String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
          if (answer.startsWith("HTTP/1.0 200")) {
            answered.incrementAndGet();
          } else {
            missed.add("bad answer: " + answer);
          }
        } catch (IOException e) {
          missed.add(e.toString());
        }
        long wait = next - System.nanoTime();
        if (wait > 0) {
          try {
            Thread.sleep(wait / 1_000_000L);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      thread.join();
    }
  }

  // Two clusters on one SO_REUSEPORT port: new 0 starts, is healthy, old 0 stops, then index 1;
  // probes every 100 ms throughout never miss.
  @Test
  void replacesTwoClustersOneIndexAtATimeWithoutMissingAProbe() throws Exception {
    port = FreePorts.SYSTEM.pick();
    orderLog = tmp.resolve("order.log");
    release(V1, "v1", 2);
    release(V2, "v2", 2);
    Supervisor first = supervisor();
    first.start(V1);
    await("v1 healthy", () -> healthyOn(first, V1));
    handOver(first);

    try (Prober prober = new Prober()) {
      await("probes answered before the switch", () -> prober.answered.get() >= 3);
      Supervisor second = supervisor();
      second.start(V2);
      await("v2 healthy with both old instances stopped", () -> healthyOn(second, V2)
          && order().stream().filter(l -> l.startsWith("stop v1")).count() == 2);
      int before = prober.answered.get();
      await("probes answered after the switch", () -> prober.answered.get() >= before + 3);
      prober.close();
      assertEquals(List.of(), prober.missed, "missed probes out of "
          + (prober.answered.get() + prober.missed.size()));
      System.out.println("rolling replacement of 2 clusters: " + prober.answered.get()
          + " probes answered, " + prober.missed.size() + " missed");
    }
    assertEquals(List.of("start v1 0", "start v1 1", "start v2 0", "stop v1 0", "start v2 1",
        "stop v1 1"), order());
  }

  // One cluster: the old process stops before the new one starts (documented).
  @Test
  void oneClusterStopsTheOldBeforeTheNewStarts() throws Exception {
    port = FreePorts.SYSTEM.pick();
    orderLog = tmp.resolve("order.log");
    release(V1, "v1", 1);
    release(V2, "v2", 1);
    Supervisor first = supervisor();
    first.start(V1);
    await("v1 healthy", () -> healthyOn(first, V1));
    handOver(first);
    Prober prober = new Prober();
    await("probes answered before the switch", () -> prober.answered.get() >= 3);
    Supervisor second = supervisor();
    second.start(V2);
    await("v2 healthy", () -> healthyOn(second, V2));
    int before = prober.answered.get();
    await("probes answered after the switch", () -> prober.answered.get() >= before + 3);
    prober.close();
    // A figure, not a promise: the gap of stop-then-start, for the docs.
    System.out.println("replacement of 1 cluster: " + prober.answered.get()
        + " probes answered, " + prober.missed.size() + " missed");
    assertEquals(List.of("start v1 0", "stop v1 0", "start v2 0"), order());
  }

  // A restart of the same version handed over is a replacement too, not an adoption.
  @Test
  void handedOverRestartOfTheSameVersionReplacesIndexByIndex() throws Exception {
    port = FreePorts.SYSTEM.pick();
    orderLog = tmp.resolve("order.log");
    release(V1, "v1", 2);
    Supervisor first = supervisor();
    first.start(V1);
    await("v1 healthy", () -> healthyOn(first, V1));
    List<Long> oldPids = first.snapshot().service("web").orElseThrow().processes().stream()
        .map(AgentSnapshot.ProcessSnapshot::pid).toList();
    handOver(first);
    // A pm2 home of the old instance (as a pm2 daemon keeps one): moved aside, then removed,
    // so the new instance's pm2 never talks to the old daemon.
    Path oldHome = tmp.resolve("agent/run/web-0.pm2");
    Files.createDirectories(oldHome);
    Files.writeString(oldHome.resolve("pm2.pid"), "old daemon\n");
    Supervisor second = supervisor();
    second.replaceOnNextStart(V1);
    second.start(V1);
    await("restarted and healthy", () -> healthyOn(second, V1)
        && order().stream().filter(l -> l.startsWith("stop")).count() == 2);
    assertEquals(List.of("start v1 0", "start v1 1", "start v1 0", "stop v1 0", "start v1 1",
        "stop v1 1"), order());
    assertTrue(second.snapshot().service("web").orElseThrow().processes().stream()
        .noneMatch(p -> oldPids.contains(p.pid())));
    assertTrue(!Files.exists(oldHome.resolve("pm2.pid")), "the old pm2 home was moved aside");
    assertTrue(!Files.exists(tmp.resolve("agent/run/web-0.pm2.old")), "and removed once retired");
  }

  // A new version whose first new instance dies: the old instances stop, the version counts
  // deploy failures as any failed start, and the agent rolls back to the known good v1.
  @Test
  void failingNewIndexStillRollsBackToTheLastKnownGood() throws Exception {
    port = FreePorts.SYSTEM.pick();
    orderLog = tmp.resolve("order.log");
    release(V1, "v1", 2);
    release(V2, "broken", 2);
    Supervisor first = supervisor();
    first.start(V1);
    await("v1 known good", () -> healthyOn(first, V1)
        && first.snapshot().versionStatus() == VersionStatus.KNOWN_GOOD);
    handOver(first);
    Supervisor second = supervisor();
    second.start(V2);
    await("rolled back to v1 and healthy", () -> healthyOn(second, V1));
    assertTrue(second.drainEvents().stream().anyMatch(e -> e.kind() == AgentEvent.Kind.ROLLED_BACK));
    assertTrue(second.isMarkedBad(V2));
  }
}
