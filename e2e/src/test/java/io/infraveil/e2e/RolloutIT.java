package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Rollouts with real processes: two hosts on this machine run one deployment, each
 * host's hello (examples/hello, compiled once) on a port of its own (the app reads it from a
 * {@code hello-port} file the test puts in the host's data dir), so a probe of "the service" is a probe of either port, as a load
 * balancer in front of both would see it.
 */
final class RolloutIT {

  private static final String HELLO = "hello";
  private static final Duration UP = Duration.ofSeconds(90);
  /** The start command: this host's port, then the precompiled hello on a quick-starting JVM. */
  private static final String START =
      ". ./port.sh && exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp . Hello";

  /**
   * A rolling deploy (max_parallel 1) keeps at least one host answering every probe (every 100
   * ms); the old all-at-once behaviour (max_parallel 2 on 2 hosts) is measured beside it.
   */
  @Test
  @Timeout(240)
  void rollingDeployKeepsTheServiceAnswering() throws Exception {
    try (Cluster cluster = Cluster.start(Cluster.runDir("RolloutIT-rolling"))) {
      int[] ports = startHosts(cluster);
      assertEquals(0, deployWait(cluster, app(cluster, "v1"), "--min-healthy-time", "2s").code());
      awaitAnswer(cluster, ports, "v1");

      Probe rolling = new Probe(ports);
      Cluster.CtlResult v2 = deployWait(cluster, app(cluster, "v2"), "--max-parallel", "1",
          "--min-healthy-time", "2s");
      rolling.close();
      assertEquals(0, v2.code(), v2.toString());
      assertTrue(v2.out().contains("rollout of v2 succeeded on 2 hosts"), v2.out());
      awaitAnswer(cluster, ports, "v2");

      Probe allAtOnce = new Probe(ports);
      Cluster.CtlResult v3 = deployWait(cluster, app(cluster, "v3"), "--max-parallel", "2",
          "--min-healthy-time", "2s");
      awaitAnswer(cluster, ports, "v3");
      allAtOnce.close();
      assertEquals(0, v3.code(), v3.toString());

      System.out.println("OUTAGE rolling (max_parallel 1): " + rolling.missed() + " of " + rolling.probes()
          + " probes missed; all at once (max_parallel 2): " + allAtOnce.missed() + " of " + allAtOnce.probes()
          + " probes missed");
      Cluster.timing("rollout: rolling deploy of 2 hosts, outage (100 ms probes missed x 100 ms)",
          Duration.ofMillis(100L * rolling.missed()));
      Cluster.timing("rollout: all-at-once deploy of 2 hosts, outage (100 ms probes missed x 100 ms)",
          Duration.ofMillis(100L * allAtOnce.missed()));
      assertTrue(rolling.probes() > 20, "the rolling deploy was probed: " + rolling.probes());
      assertEquals(List.of(), rolling.misses(), "a rolling deploy keeps one host answering every probe");
      JsonNode history = cluster.ctlJson("history", HELLO);
      assertEquals("ROLLOUT_STATE_SUCCEEDED", history.path("rollouts").get(1).path("state").asText());
      assertEquals(List.of(1, 2), batches(history.path("rollouts").get(1)), "one host per batch");
    }
  }

  /**
   * A version that cannot start, deployed with canary 1: only the canary tries it, the other host
   * never fetches it, the canary is back on v1, and {@code deploy --wait} exits 1 naming the
   * ROLLOUT_FAILED incident.
   */
  @Test
  @Timeout(240)
  void brokenVersionFailsOnTheCanaryOnly() throws Exception {
    try (Cluster cluster = Cluster.start(Cluster.runDir("RolloutIT-canary"))) {
      int[] ports = startHosts(cluster);
      assertEquals(0, deployWait(cluster, app(cluster, "v1"), "--min-healthy-time", "2s").code());
      awaitAnswer(cluster, ports, "v1");
      String v1Sha = cluster.ctlJson("rollout", "status", HELLO).path("payload").path("sha256").asText();

      Path broken = app(cluster, "v2");
      Path config = broken.resolve("config.yaml");
      Files.writeString(config, Files.readString(config).replace(START,
          "echo this version cannot start >&2; exit 1"));
      Cluster.CtlResult v2 = deployWait(cluster, broken, "--canary", "1", "--auto-promote",
          "--min-healthy-time", "2s", "--timeout", "3m");
      assertEquals(1, v2.code(), v2.toString());
      JsonNode rollout = cluster.ctlJson("rollout", "status", HELLO);
      String v2Sha = cluster.ctlJson("history", HELLO).path("rollouts").get(0).path("payload").path("sha256")
          .asText();
      assertEquals("ROLLOUT_STATE_REVERTED", rollout.path("state").asText());
      String incident = rollout.path("incidentId").asText();
      assertFalse(incident.isEmpty(), rollout.toString());
      assertTrue(v2.err().contains("incident " + incident), v2.err());
      assertTrue(v2.err().contains("host a failed v2"), v2.err());
      JsonNode incidents = cluster.ctlJson("incidents");
      assertTrue(incidents.toString().contains(incident) && incidents.toString().contains("ROLLOUT_FAILED"),
          incidents.toString());

      JsonNode hosts = rollout.path("hosts");
      assertEquals("a", hosts.get(0).path("hostName").asText());
      assertTrue(hosts.get(0).path("canary").asBoolean());
      assertEquals("ROLLOUT_HOST_STATE_REVERTED", hosts.get(0).path("state").asText());
      assertEquals("ROLLOUT_HOST_STATE_PENDING", hosts.get(1).path("state").asText(), "b was never moved");
      assertFalse(Files.exists(cluster.host("b").cacheDir().resolve(v2Sha)), "b never fetched v2");
      assertFalse(Files.exists(cluster.host("b").agentDir(HELLO).resolve("releases").resolve(v2Sha)),
          "b never extracted v2");
      assertTrue(Files.exists(cluster.host("a").cacheDir().resolve(v2Sha)), "the canary did try it");
      cluster.waitFor("both hosts desire and answer v1 again", UP, () ->
          Cluster.httpGet(ports[0], "/").equals(Optional.of("v1"))
              && Cluster.httpGet(ports[1], "/").equals(Optional.of("v1"))
              && cluster.deploymentOnHost(HELLO, "a").path("payload").path("sha256").asText().equals(v1Sha));
      assertEquals(v1Sha, cluster.status().path("deployments").get(0).path("payload").path("sha256").asText(),
          "the deployment itself is back on v1");
    }
  }

  /** A control plane killed with -9 in the middle of a rollout resumes it where it was. */
  @Test
  @Timeout(240)
  void controlPlaneKillMidRolloutResumes() throws Exception {
    try (Cluster cluster = Cluster.start(Cluster.runDir("RolloutIT-restart"))) {
      int[] ports = startHosts(cluster);
      assertEquals(0, deployWait(cluster, app(cluster, "v1"), "--min-healthy-time", "2s").code());
      awaitAnswer(cluster, ports, "v1");

      cluster.ctlOk("deploy", app(cluster, "v2").toString(), "--name", HELLO, "--hosts", "a,b",
          "--min-healthy-time", "4s");
      cluster.waitFor("the first host moved, the second not yet", UP, () -> {
        JsonNode hosts = cluster.ctlJson("rollout", "status", HELLO).path("hosts");
        return hosts.get(0).path("state").asText().equals("ROLLOUT_HOST_STATE_UPDATING")
            && hosts.get(1).path("state").asText().equals("ROLLOUT_HOST_STATE_PENDING");
      });
      long rolloutId = cluster.ctlJson("rollout", "status", HELLO).path("id").asLong();
      cluster.kill9ControlPlane();
      assertEquals(Optional.of("v1"), Cluster.httpGet(ports[1], "/"), "b keeps v1 while the control plane is away");
      cluster.startControlPlane();

      Cluster.CtlResult watched = cluster.ctl("rollout", "status", HELLO, "--watch");
      assertEquals(0, watched.code(), watched.toString());
      awaitAnswer(cluster, ports, "v2");
      JsonNode rollouts = cluster.ctlJson("history", HELLO).path("rollouts");
      assertEquals(rolloutId, rollouts.get(0).path("id").asLong(), "the same rollout went on, none started anew");
      assertEquals("ROLLOUT_STATE_SUCCEEDED", rollouts.get(0).path("state").asText());
      assertEquals(List.of(1, 2), batches(rollouts.get(0)));
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Hosts "a" and "b", each with its own hello port; returns the ports. */
  private static int[] startHosts(Cluster cluster) throws Exception {
    int[] ports = {Cluster.freePort(), Cluster.freePort()};
    String[] names = {"a", "b"};
    for (int i = 0; i < 2; i++) {
      Files.createDirectories(cluster.hostDataDir(names[i]));
      Files.writeString(cluster.hostDataDir(names[i]).resolve("hello-port"), ports[i] + "\n");
      cluster.startHost(names[i], cluster.grpcEndpoint(), Battle.fastHost());
    }
    return ports;
  }

  /**
   * examples/hello, whose start and health check read the port from the nearest {@code hello-port}
   * above the release directory (the host's data dir), checked every second.
   */
  private static Path app(Cluster cluster, String version) throws IOException {
    Path dir = cluster.helloApp(version);
    // Compiled here once, so a start is a JVM start (well under a second), not a compilation:
    // the outage measured is the rollout's, not javac's on a busy machine.
    int compiled = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null,
        "-d", dir.toString(), dir.resolve("Hello.java").toString());
    assertEquals(0, compiled, "javac Hello.java");
    Files.writeString(dir.resolve("port.sh"), """
        d=$(pwd)
        while [ "$d" != / ] && [ ! -f "$d/hello-port" ]; do d=$(dirname "$d"); done
        PORT=$(cat "$d/hello-port")
        export PORT
        """);
    Files.writeString(dir.resolve("config.yaml"), """
        services:
          hello:
            run:
              start: [ "%s" ]
            healthcheck:
              cmd: bash -c '. ./port.sh && exec 3<>/dev/tcp/127.0.0.1/$PORT && printf "GET /health HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3'
              test: ok
              interval: 1s
              timeout: 3s
              start_period: 60s
        """.formatted(START));
    return dir;
  }

  private static Cluster.CtlResult deployWait(Cluster cluster, Path app, String... flags) {
    List<String> args = new ArrayList<>(List.of("deploy", app.toString(), "--name", HELLO, "--hosts", "a,b",
        "--payload-version", app.getFileName().toString().replaceAll("^hello-(v\\d+)-\\d+$", "$1"), "--wait"));
    args.addAll(List.of(flags));
    Cluster.CtlResult result = cluster.ctl(args.toArray(String[]::new));
    System.out.println("ctl " + String.join(" ", args) + " -> " + result.code() + "\n" + result.out() + result.err());
    return result;
  }

  private static void awaitAnswer(Cluster cluster, int[] ports, String version) throws InterruptedException {
    cluster.waitFor("both hosts answer " + version, UP, () ->
        Stream.of(ports[0], ports[1]).allMatch(p -> Cluster.httpGet(p, "/").equals(Optional.of(version))));
  }

  private static List<Integer> batches(JsonNode rollout) {
    List<Integer> out = new ArrayList<>();
    rollout.path("hosts").forEach(h -> out.add(h.path("batch").asInt()));
    return out;
  }

  /**
   * Probes "the service" every 100 ms: a probe answers when either host answers {@code /}; a
   * probe that neither answers is a miss, recorded with its time.
   */
  private static final class Probe implements AutoCloseable {
    private final int[] ports;
    private final Thread thread;
    private final AtomicLong probes = new AtomicLong();
    private final List<String> misses = new CopyOnWriteArrayList<>();
    private volatile boolean stop;

    Probe(int[] ports) {
      this.ports = ports.clone();
      this.thread = new Thread(this::run, "rollout-probe");
      thread.setDaemon(true);
      thread.start();
    }

    private void run() {
      while (!stop) {
        boolean answered = false;
        for (int port : ports) {
          if (Cluster.httpGet(port, "/").isPresent()) {
            answered = true;
            break;
          }
        }
        probes.incrementAndGet();
        if (!answered) {
          misses.add(java.time.Instant.now().toString());
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

    int missed() {
      return misses.size();
    }

    List<String> misses() {
      return List.copyOf(misses);
    }

    @Override
    public void close() throws InterruptedException {
      stop = true;
      thread.join(5000);
    }
  }
}
