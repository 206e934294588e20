package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.infraveil.host.process.cgroup.CgroupLayout;
import io.infraveil.host.process.cgroup.Cgroups;
import io.infraveil.host.process.cgroup.ServiceCgroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The seeds' own pm2 config, end to end with node and pm2 from npm (scripts/install-pm2.sh):
 * {@code start: pm2 start index.js --name web} and {@code postflight: pm2 list} deploy and
 * are supervised through the service's cgroup; killing every process of it (pm2's daemon
 * included) is healed; a broken version is rolled back; deleting the deployment leaves no
 * process. Skipped, saying why, only
 * where no cgroup hierarchy is writable.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class Pm2SeedIT {

  private static final String HOST = "a";
  private static final String WEB = "web";
  private static final Duration UP = Duration.ofSeconds(60);

  private Cluster cluster;
  private Cluster.Host host;
  private Cgroups cgroups;
  private int port;
  private Path app;
  private String v1Sha;
  private final List<Long> seen = new ArrayList<>();

  @BeforeAll
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void deployThePm2Config() throws Exception {
    CgroupLayout layout = CgroupLayout.system();
    assumeTrue(layout.tracks(), "skipped: no writable cgroup hierarchy here: "
        + layout.description());
    Path pm2 = Cluster.repoRoot().resolve(".tools/pm2/node_modules/.bin/pm2");
    assertTrue(Files.isExecutable(pm2), pm2 + " is missing: run scripts/install-pm2.sh");
    cluster = Cluster.start(Cluster.runDir("Pm2SeedIT"));
    host = cluster.startHost(HOST, cluster.grpcEndpoint(), Battle.fastHost());
    cgroups = Cgroups.system(host.dataDir());
    port = Cluster.freePort();
    app = Files.createDirectories(cluster.root().resolve("apps/pm2-web"));
    Files.writeString(app.resolve("index.js"), """
        const http = require('http');
        http.createServer((req, res) => res.end(req.url === '/health' ? 'ok' : 'web ' + process.pid))
          .listen(Number(process.env.PORT), '127.0.0.1');
        """);
    Files.writeString(app.resolve("config.yaml"), """
        services:
          web:
            run:
              start: [ "pm2 start index.js --name web" ]
              postflight: [ "pm2 list" ]
            env:
              PORT: "%d"
              PATH: "%s:/usr/local/bin:/usr/bin:/bin"
            healthcheck:
              cmd: bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d && printf "GET /health HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3'
              test: ok
              interval: 1s
              timeout: 3s
              start_period: 30s
            stop_timeout: 5s
        """.formatted(port, pm2.getParent(), port));
    JsonNode deployed = cluster.deploy(app, WEB, HOST);
    v1Sha = deployed.path("upload").path("payload").path("sha256").asText();
    assertEquals(64, v1Sha.length(), deployed.toString());
    cluster.waitFor("pm2's web answers", UP, () -> answer().isPresent());
    cluster.waitFor("web RUNNING and HEALTHY", UP, () -> service().path("state").asText()
        .equals("SERVICE_STATE_RUNNING") && service().path("health").asText()
        .equals("HEALTH_STATUS_HEALTHY"));
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close(); // fails when any process is left behind
    }
  }

  private Optional<String> answer() {
    return Cluster.httpGet(port, "/").filter(body -> body.startsWith("web "));
  }

  private JsonNode service() {
    JsonNode services = cluster.deploymentOnHost(WEB, HOST).path("services");
    return services.size() == 0 ? com.fasterxml.jackson.databind.node.MissingNode.getInstance()
        : services.get(0);
  }

  private ServiceCgroup webCgroup() {
    return cgroups.service(WEB, WEB, 0);
  }

  private long pm2Daemon() throws Exception {
    Path pidFile = host.agentDir(WEB).resolve("run/web-0.pm2/pm2.pid");
    return Long.parseLong(Files.readString(pidFile).trim());
  }

  /** pm2's daemon and the app it runs are both in the service's cgroup; the start exited. */
  @Test
  @Order(1)
  void pm2DaemonAndAppLiveInTheServiceCgroup() throws Exception {
    List<Long> pids = webCgroup().pids();
    long daemon = pm2Daemon();
    long app = Long.parseLong(answer().orElseThrow().substring("web ".length()).trim());
    assertTrue(pids.contains(daemon), "pm2 daemon " + daemon + " not in " + pids);
    assertTrue(pids.contains(app), "app " + app + " not in " + pids);
    assertTrue(webCgroup().name().startsWith("infraveil/" + cgroups.hostKey() + "/web/web-0"));
    String heartbeat = cluster.deploymentOnHost(WEB, HOST).toString();
    assertEquals(0, service().path("restartsTotal").asInt(), heartbeat);
    String listed = Files.readString(host.agentDir(WEB).resolve("logs/web-0.out.log"));
    assertTrue(listed.contains("web") && listed.contains("online"), "pm2 list ran: " + listed);
    seen.addAll(pids);
  }

  /** kill -9 of every process of the service, pm2's daemon included: healed, counted once. */
  @Test
  @Order(2)
  void everyProcessKilledIsHealed() throws Exception {
    long daemon = pm2Daemon();
    int restarts = service().path("restartsTotal").asInt();
    long killed = System.nanoTime();
    // One pass, pm2's daemon first so it cannot respawn its app; the agent heals at once, so
    // anything started after this snapshot is the replacement and is left alone.
    List<Long> victims = new ArrayList<>(webCgroup().pids());
    assertTrue(victims.remove(daemon), "pm2 daemon " + daemon + " in " + victims);
    victims.add(0, daemon);
    seen.addAll(victims);
    victims.forEach(Cluster::kill9);
    cluster.waitFor("web answers again", UP, () -> answer().isPresent());
    Cluster.timing("battle: kill -9 of pm2 and its app -> answering again",
        Battle.elapsed(killed));
    cluster.waitFor("restart counted", UP, () -> service().path("restartsTotal").asInt()
        == restarts + 1);
    assertNotEquals(daemon, pm2Daemon(), "a new pm2 daemon");
    assertTrue(victims.stream().noneMatch(Battle::alive), "every killed process stays dead");
    assertTrue(webCgroup().pids().contains(pm2Daemon()));
    seen.addAll(webCgroup().pids());
  }

  /**
   * A version whose start fails after pm2 started its app is stopped whole each time (pm2's
   * daemon included) and rolled back to the known good one, which answers again.
   */
  @Test
  @Order(3)
  void brokenVersionIsRolledBack() throws Exception {
    cluster.waitFor("v1 known good", UP, () -> cluster.deploymentOnHost(WEB, HOST)
        .path("versionStatus").asText().equals("VERSION_STATUS_KNOWN_GOOD"));
    Path broken = Files.createDirectories(cluster.root().resolve("apps/pm2-web-broken"));
    Files.writeString(broken.resolve("index.js"), Files.readString(app.resolve("index.js")));
    Files.writeString(broken.resolve("config.yaml"), Files.readString(app.resolve("config.yaml"))
        .replace("start: [ \"pm2 start index.js --name web\" ]",
            "start: [ \"pm2 start index.js --name web\", \"exit 3\" ]"));
    String v2Sha = cluster.deploy(broken, WEB, HOST).path("upload").path("payload")
        .path("sha256").asText();
    assertNotEquals(v1Sha, v2Sha);
    cluster.waitFor("the agent tried v2", UP, () -> Files.readString(host.agentDir(WEB)
        .resolve("agent_state.json")).contains(v2Sha));
    cluster.waitFor("rolled back to v1", Duration.ofSeconds(120), () -> {
      JsonNode onHost = cluster.deploymentOnHost(WEB, HOST);
      return onHost.path("payload").path("sha256").asText().equals(v1Sha)
          && service().path("state").asText().equals("SERVICE_STATE_RUNNING");
    });
    cluster.waitFor("v1 answers after the rollback", UP, () -> answer().isPresent());
    assertTrue(Files.readString(host.agentDir(WEB).resolve("agent_state.json")).contains(v2Sha),
        "v2 is remembered (marked bad)");
    assertTrue(webCgroup().pids().contains(pm2Daemon()), "v1's pm2 daemon in the cgroup");
  }

  /** Deleting the deployment stops pm2 and its app: no process and no cgroup is left. */
  @Test
  @Order(4)
  void deleteLeavesNoProcess() throws Exception {
    seen.addAll(webCgroup().pids());
    OperatorCalls.deleteDeployment(cluster, WEB);
    cluster.waitFor("the deployment's cgroups are gone", UP,
        () -> cgroups.deploymentCgroups(WEB).isEmpty());
    cluster.waitFor("every process of web is gone", Duration.ofSeconds(10),
        () -> seen.stream().noneMatch(Battle::alive));
    assertEquals(Optional.empty(), answer());
  }
}
