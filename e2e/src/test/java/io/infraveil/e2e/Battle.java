package io.infraveil.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the battle tests share on top of {@link Cluster}: the profile (short for CI, full for a
 * release), a prober that proves a service answered throughout, readers of the host's state
 * files, signals, and a loopback TCP proxy that can blackhole a connection.
 */
final class Battle {

  private static final ObjectMapper JSON = new ObjectMapper();

  private Battle() {}

  /** {@code -Dbattle=full} runs the long variants; anything else (the default) is short. */
  static boolean full() {
    return "full".equalsIgnoreCase(System.getProperty("battle", "short"));
  }

  /** How long the control plane stays away: "several minutes" scaled to the profile. */
  static Duration controlPlaneAway() {
    return full() ? Duration.ofMinutes(3) : Duration.ofSeconds(20);
  }

  /**
   * Launcher flags of a battle host: reports and reconciles every second, reconnect capped at
   * 3 s (instead of 30 s), agents with a 3 s stabilization, a 2 s heartbeat and a 3 s reconnect
   * cap. Keepalive stays at its production values (10 s + 10 s).
   */
  static List<String> fastHost() {
    return List.of("--reconnect-max", "PT3S",
        "--agent-arg=--stabilization=PT3S",
        "--agent-arg=--heartbeat-interval=PT2S",
        "--agent-arg=--report-reconnect-max=PT3S");
  }

  static long since(long nanoStart) {
    return System.nanoTime() - nanoStart;
  }

  static Duration elapsed(long nanoStart) {
    return Duration.ofNanos(since(nanoStart));
  }

  // ---------------------------------------------------------------- state files

  static JsonNode readJson(Path file) throws IOException {
    return JSON.readTree(file.toFile());
  }

  /** {@code launcher_state.json} of a host. */
  static JsonNode launcherState(Cluster.Host host) throws IOException {
    return readJson(host.dataDir().resolve("launcher_state.json"));
  }

  /** The agent pid the launcher saved for {@code deployment}, or -1. */
  static long agentPid(Cluster.Host host, String deployment) throws IOException {
    JsonNode process = launcherState(host).path("agents").path(deployment).path("process");
    return process.isMissingNode() || process.isNull() ? -1 : process.path("pid").asLong(-1);
  }

  /** {@code agents/<deployment>/agent_state.json}. */
  static JsonNode agentState(Cluster.Host host, String deployment) throws IOException {
    return readJson(host.agentDir(deployment).resolve("agent_state.json"));
  }

  /** Both state files parse (they are replaced by rename, never left half-written). */
  static void assertStateFilesIntact(Cluster.Host host, String deployment) throws IOException {
    JsonNode launcher = launcherState(host);
    if (launcher.path("formatVersion").asInt() != 3) {
      throw new AssertionError("launcher_state.json format: " + launcher);
    }
    JsonNode agent = agentState(host, deployment);
    if (agent.path("formatVersion").asInt() != 2) {
      throw new AssertionError("agent_state.json format: " + agent);
    }
  }

  /** Number of lines containing {@code text} in {@code log} after character {@code from}. */
  static int count(String log, int from, String text) {
    int n = 0;
    for (int i = log.indexOf(text, from); i >= 0; i = log.indexOf(text, i + 1)) {
      n++;
    }
    return n;
  }

  /** The last {@code detached_for=...} a launcher logged after {@code from}, if any. */
  static Optional<String> lastDetachedFor(String log, int from) {
    Matcher m = Pattern.compile("action=sync_connected .*detached_for=(PT[0-9.A-Z]+)")
        .matcher(log.substring(Math.min(from, log.length())));
    String last = null;
    while (m.find()) {
      last = m.group(1);
    }
    return Optional.ofNullable(last);
  }

  // ---------------------------------------------------------------- processes

  static boolean alive(long pid) {
    return pid > 0 && ProcessScan.isAlive(pid);
  }

  /** kill -SIG pid (STOP, CONT, ...). */
  static void signal(long pid, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new AssertionError("kill -" + signal + " " + pid + " failed");
    }
  }

  // ---------------------------------------------------------------- prober

  /**
   * GETs {@code /} every 100 ms on a background thread and records every answer that was not
   * {@code expected}: proof that a service answered throughout (or how long it did not).
   */
  static final class Prober implements AutoCloseable {
    private final int port;
    private final String expected;
    private final Thread thread;
    private final AtomicLong probes = new AtomicLong();
    private final List<String> misses = new CopyOnWriteArrayList<>();
    private volatile boolean stop;

    Prober(int port, String expected) {
      this.port = port;
      this.expected = expected;
      this.thread = new Thread(this::run, "prober-" + port);
      thread.setDaemon(true);
      thread.start();
    }

    private void run() {
      while (!stop) {
        Optional<String> got = Cluster.httpGet(port, "/");
        probes.incrementAndGet();
        if (!got.equals(Optional.of(expected))) {
          misses.add(java.time.Instant.now() + " " + got.orElse("no answer"));
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    long probes() {
      return probes.get();
    }

    List<String> misses() {
      return List.copyOf(misses);
    }

    /** Fails unless every probe so far got the expected answer (and there were some). */
    void assertAnsweredThroughout(String during) {
      if (probes.get() < 5 || !misses.isEmpty()) {
        throw new AssertionError("hello did not answer \"" + expected + "\" throughout " + during
            + ": " + misses.size() + " of " + probes.get() + " probes missed: " + misses);
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop = true;
      thread.join(5000);
    }
  }

  // ---------------------------------------------------------------- blackhole proxy

  /**
   * A loopback TCP proxy in front of the control plane. {@link #blackhole()} makes it stop
   * forwarding without closing anything: bytes in both directions are read and dropped, new
   * connections are accepted and never answered, no FIN and no RST is ever sent, like a network
   * that silently drops packets. {@link #forward()} forwards again (new connections only; a
   * blackholed connection stays dead until its client gives up on it).
   */
  static final class BlackholeProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int upstreamPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile long epoch;
    private volatile boolean blackholed;
    private volatile boolean closed;

    BlackholeProxy(int upstreamPort) throws IOException {
      this.upstreamPort = upstreamPort;
      this.server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      Thread acceptor = new Thread(this::accept, "proxy-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    String endpoint() {
      return "localhost:" + server.getLocalPort();
    }

    void blackhole() {
      blackholed = true;
      epoch++;
    }

    void forward() {
      blackholed = false;
    }

    private void accept() {
      while (!closed) {
        try {
          Socket client = server.accept();
          sockets.add(client);
          if (blackholed) {
            drain(client.getInputStream()); // accepted, never answered
            continue;
          }
          Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
          sockets.add(upstream);
          long mine = epoch;
          pump(client.getInputStream(), upstream.getOutputStream(), mine);
          pump(upstream.getInputStream(), client.getOutputStream(), mine);
        } catch (IOException e) {
          if (closed) {
            return;
          }
        }
      }
    }

    /** Copies while this connection's epoch is current; afterwards reads and drops. */
    private void pump(InputStream in, OutputStream out, long mine) {
      Thread t = new Thread(() -> {
        byte[] buffer = new byte[16384];
        try {
          int n;
          while ((n = in.read(buffer)) >= 0) {
            if (epoch == mine && !blackholed) {
              out.write(buffer, 0, n);
              out.flush();
            }
          }
        } catch (IOException e) {
          // the peer went away
        }
      }, "proxy-pump");
      t.setDaemon(true);
      t.start();
    }

    private void drain(InputStream in) {
      Thread t = new Thread(() -> {
        byte[] buffer = new byte[16384];
        try {
          while (in.read(buffer) >= 0) {
            // dropped
          }
        } catch (IOException e) {
          // the peer went away
        }
      }, "proxy-drain");
      t.setDaemon(true);
      t.start();
    }

    @Override
    public void close() throws IOException {
      closed = true;
      server.close();
      for (Socket socket : sockets) {
        socket.close();
      }
    }
  }

  /** The app at {@code dir} with its start command replaced by one that exits 1 at once. */
  static Path brokenStart(Path dir) throws IOException {
    Path config = dir.resolve("config.yaml");
    String text = Files.readString(config);
    String broken = text.replace(Cluster.HELLO_START,
        "start: [ \"echo this version cannot start >&2; exit 1\" ]");
    if (broken.equals(text)) {
      throw new IllegalStateException(config + " has no start line to break; update the test");
    }
    Files.writeString(config, broken);
    return dir;
  }
}
