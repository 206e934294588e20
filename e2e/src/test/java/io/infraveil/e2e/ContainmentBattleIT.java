package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.infraveil.host.process.cgroup.CgroupLayout;
import io.infraveil.host.process.cgroup.Cgroups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Containment through real launcher, agent and services: a service that double-forks and one
 * that ignores SIGTERM leave nothing after a restart (the agent's stop) and after delete; a
 * leaking service is OOM-killed at its memory limit and ctl status says so with the limit; a
 * service runs as nobody. Skipped, saying why, only where no cgroup hierarchy is writable.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ContainmentBattleIT {

  private static final String HOST = "a";
  private static final String BOX = "box";
  private static final Duration UP = Duration.ofSeconds(60);

  private Cluster cluster;
  private Cluster.Host host;
  private Cgroups cgroups;
  private final List<Long> seen = new ArrayList<>();

  @BeforeAll
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void deploy() throws Exception {
    CgroupLayout layout = CgroupLayout.system();
    assumeTrue(layout.tracks(), "skipped: no writable cgroup hierarchy here: "
        + layout.description());
    cluster = Cluster.start(Cluster.runDir("ContainmentBattleIT"));
    host = cluster.startHost(HOST, cluster.grpcEndpoint(), Battle.fastHost());
    cgroups = Cgroups.system(host.dataDir());
    Path app = Files.createDirectories(cluster.root().resolve("apps/box"));
    Files.writeString(app.resolve("config.yaml"), """
        services:
          forker:
            run:
              start: [ "rm -f forker.pid; (setsid sh -c 'echo $$ > forker.pid; exec sleep 300' &); exit 0" ]
            stop_timeout: 2s
          stubborn:
            run:
              start: [ "trap '' TERM; sh -c 'echo $$ > stubborn.pid; exec sleep 300' & exec sleep 300" ]
            stop_timeout: 2s
          leaky:
            run:
              start: [ "sleep 3; x=$(head -c 67108864 /dev/zero | tr '\\\\0' a); exec sleep 300" ]
            resources: { memory: 16Mi }
            stop_timeout: 1s
          asnobody:
            user: nobody
            run:
              start: [ "id -un > whoami.txt; exec sleep 300" ]
            stop_timeout: 1s
        """);
    cluster.deploy(app, BOX, HOST);
    for (String service : List.of("forker", "stubborn", "asnobody")) {
      cluster.waitFor(service + " RUNNING", UP, () -> service(service).path("state").asText()
          .equals("SERVICE_STATE_RUNNING"));
    }
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close(); // fails when any process is left behind
    }
  }

  private JsonNode service(String name) {
    for (JsonNode s : cluster.deploymentOnHost(BOX, HOST).path("services")) {
      if (s.path("name").asText().equals(name)) {
        return s;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  /** The newest file {@code name} in any release dir of the deployment. */
  private Optional<Path> releaseFile(String name) throws IOException {
    Path releases = host.agentDir(BOX).resolve("releases");
    if (!Files.isDirectory(releases)) {
      return Optional.empty();
    }
    try (Stream<Path> dirs = Files.list(releases)) {
      return dirs.map(d -> d.resolve(name)).filter(Files::exists).findFirst();
    }
  }

  private long pid(String file) throws Exception {
    cluster.waitFor(file + " written", UP, () -> releaseFile(file).isPresent()
        && !Files.readString(releaseFile(file).get()).isBlank());
    return Long.parseLong(Files.readString(releaseFile(file).get()).trim());
  }

  private List<Long> deploymentPids() {
    List<Long> pids = new ArrayList<>();
    cgroups.deploymentCgroups(BOX).forEach(g -> pids.addAll(g.pids()));
    return pids;
  }

  /** The leaking service is OOM-killed at 16Mi, and ctl status says so with the limit. */
  @Test
  @Order(1)
  void leakIsOomKilledAndReportedWithTheLimit() throws Exception {
    cluster.waitFor("an OOM kill reported", UP, () -> service("leaky").path("oomKills")
        .asLong() >= 1);
    assertEquals(16L << 20, service("leaky").path("memoryLimitBytes").asLong());
    String status = cluster.ctlOk("status");
    assertTrue(status.contains("(OOM-killed ") && status.contains(" at 16Mi)"), status);
  }

  /** user: nobody runs the service as nobody. */
  @Test
  @Order(2)
  void serviceRunsAsNobody() throws Exception {
    cluster.waitFor("whoami.txt written", UP, () -> releaseFile("whoami.txt").isPresent()
        && !Files.readString(releaseFile("whoami.txt").get()).isBlank());
    assertEquals("nobody", Files.readString(releaseFile("whoami.txt").get()).trim());
    List<Long> pids = cgroups.service(BOX, "asnobody", 0).pids();
    assertEquals(1, pids.size(), pids.toString());
    int uid = ((Number) Files.getAttribute(Path.of("/proc/" + pids.get(0)), "unix:uid"))
        .intValue();
    int nobody = Integer.parseInt(new String(new ProcessBuilder("id", "-u", "nobody").start()
        .getInputStream().readAllBytes()).trim());
    assertEquals(nobody, uid);
  }

  /**
   * A restart stops the old processes (the agent's stop: TERM, stop_timeout, kill), the
   * double-forked daemon and the TERM-ignoring child included, and starts new ones.
   */
  @Test
  @Order(3)
  void restartLeavesNothingOfTheOldProcesses() throws Exception {
    long forker = pid("forker.pid");
    long stubborn = pid("stubborn.pid");
    List<Long> before = deploymentPids();
    assertTrue(before.contains(forker) && before.contains(stubborn), before.toString());
    seen.addAll(before);
    Files.delete(releaseFile("forker.pid").orElseThrow());
    Files.delete(releaseFile("stubborn.pid").orElseThrow());
    long agent = Battle.agentPid(host, BOX);
    OperatorCalls.restartDeployment(cluster, BOX);
    cluster.waitFor("a new agent", UP, () -> Battle.agentPid(host, BOX) != agent);
    cluster.waitFor("forker and stubborn run again", UP, () -> releaseFile("forker.pid")
        .isPresent() && releaseFile("stubborn.pid").isPresent());
    cluster.waitFor("every old process is gone", Duration.ofSeconds(20),
        () -> before.stream().noneMatch(Battle::alive));
  }

  /** Delete leaves no process of the deployment and no cgroup. */
  @Test
  @Order(4)
  void deleteLeavesNothing() throws Exception {
    pid("forker.pid");
    pid("stubborn.pid");
    List<Long> before = deploymentPids();
    seen.addAll(before);
    OperatorCalls.deleteDeployment(cluster, BOX);
    cluster.waitFor("the deployment's cgroups are gone", UP,
        () -> cgroups.deploymentCgroups(BOX).isEmpty());
    cluster.waitFor("every process of box is gone", Duration.ofSeconds(10),
        () -> seen.stream().noneMatch(Battle::alive));
  }
}
