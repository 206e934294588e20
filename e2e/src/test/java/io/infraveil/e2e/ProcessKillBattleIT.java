package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Battle cases with real processes on one cluster (control plane, launcher "a", its agent and
 * the hello service), in order, each leaving hello v1 serving: kill -9 of the service, the
 * agent, the launcher and the control plane (away for a while, with a service and an agent
 * killed meanwhile), a service that stops answering, a version that cannot start, and a
 * corrupted and a truncated payload. Each case checks the outcome and that nothing was lost:
 * who kept running (pids), restart counts, the state files, and (after the class) that no
 * process is left. Recovery times are printed as {@code TIMING} lines.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ProcessKillBattleIT {

  private static final String HOST = "a";
  private static final String HELLO = "hello";
  private static final Duration UP = Duration.ofSeconds(60);

  private Cluster cluster;
  private Cluster.Host host;
  private String v1Sha;

  @BeforeAll
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void startCluster() throws Exception {
    cluster = Cluster.start(Cluster.runDir("ProcessKillBattleIT"));
    host = cluster.startHost(HOST, cluster.grpcEndpoint(), Battle.fastHost());
    JsonNode deployed = cluster.deploy(cluster.helloApp("v1"), HELLO, HOST);
    v1Sha = deployed.path("upload").path("payload").path("sha256").asText();
    assertEquals(64, v1Sha.length(), deployed.toString());
    cluster.waitFor("hello v1 answers", UP, () -> answers("v1"));
    cluster.waitFor("v1 known good", UP, () -> onHost().path("versionStatus").asText()
        .equals("VERSION_STATUS_KNOWN_GOOD"));
  }

  @AfterEach
  void stillServingAndIntact() throws Exception {
    if (cluster.controlPlane().isAlive() && host.launcher().isAlive()) {
      cluster.waitFor("hello v1 answers after the case", UP, () -> answers("v1"));
      Battle.assertStateFilesIntact(host, HELLO);
    }
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close(); // fails when any process is left behind
    }
  }

  /** kill -9 of the service: healed as a new process, counted once, the agent untouched. */
  @Test
  @Order(1)
  void killedServiceIsHealedAndCounted() throws Exception {
    long agent = Battle.agentPid(host, HELLO);
    long pid = servicePid();
    int restarts = service().path("restartsTotal").asInt();
    long killed = System.nanoTime();
    Cluster.kill9(pid);
    cluster.waitFor("hello answers after kill -9 of the service", UP, () -> answers("v1"));
    Cluster.timing("battle: kill -9 service -> answering again", Battle.elapsed(killed));
    cluster.waitFor("new service pid saved", UP, () -> cluster.servicePid(HOST, HELLO, HELLO)
        .isPresent());
    assertNotEquals(pid, servicePid());
    assertFalse(Battle.alive(pid));
    cluster.waitFor("restart counted", UP, () -> service().path("restartsTotal").asInt()
        == restarts + 1);
    assertEquals(agent, Battle.agentPid(host, HELLO), "the agent was not restarted");
    assertEquals(0, crashesInWindow(), "a healed service is no agent crash");
  }

  /** kill -9 of the agent: respawned, adopts the service (same pid), hello answers throughout. */
  @Test
  @Order(2)
  void killedAgentIsRespawnedAndAdoptsTheService() throws Exception {
    long agent = Battle.agentPid(host, HELLO);
    long service = servicePid();
    try (Battle.Prober prober = new Battle.Prober(cluster.helloPort(), "v1")) {
      long killed = System.nanoTime();
      Cluster.kill9(agent);
      cluster.waitFor("a new agent runs", UP, () -> {
        long now = Battle.agentPid(host, HELLO);
        return now != agent && Battle.alive(now);
      });
      Cluster.timing("battle: kill -9 agent -> new agent running", Battle.elapsed(killed));
      // restartsTotal counts since the agent started: 1 from the old agent, 0 from the new one.
      cluster.waitFor("the new agent reports", UP, () -> onHost().path("services").size() == 1
          && service().path("state").asText().equals("SERVICE_STATE_RUNNING")
          && service().path("restartsTotal").asInt() == 0);
      Cluster.timing("battle: kill -9 agent -> new agent reporting", Battle.elapsed(killed));
      Thread.sleep(1000);
      prober.assertAnsweredThroughout("the agent's kill -9 and respawn");
    }
    assertEquals(service, servicePid(), "the service was adopted, not restarted");
    assertEquals(1, crashesInWindow(), "the agent's death counted as one crash");
    assertEquals(0, service().path("restartsTotal").asInt(), "nothing restarted by the new agent");
  }

  /**
   * kill -9 of the launcher, then a new launcher over the same data dir: it adopts the agent
   * (same pid), restarts nothing, and hello answers throughout.
   */
  @Test
  @Order(3)
  void killedLauncherIsRestartedAndRestartsNothing() throws Exception {
    long agent = Battle.agentPid(host, HELLO);
    long service = servicePid();
    int logFrom = host.launcher().log().length();
    try (Battle.Prober prober = new Battle.Prober(cluster.helloPort(), "v1")) {
      long killed = System.nanoTime();
      host.launcher().kill9();
      Thread.sleep(2000); // agents and services run on without their launcher
      assertTrue(Battle.alive(agent));
      cluster.restartLauncher(HOST);
      cluster.waitFor("the new launcher reconnects", UP, () ->
          Battle.count(host.launcher().log(), logFrom, "action=sync_connected") > 0);
      Cluster.timing("battle: kill -9 launcher -> new launcher connected (incl. 2 s down)",
          Battle.elapsed(killed));
      Thread.sleep(3000); // a few reconcile passes
      prober.assertAnsweredThroughout("the launcher's kill -9 and restart");
    }
    String log = host.launcher().log();
    assertEquals(1, Battle.count(log, logFrom, "action=adopt deployment=hello pid=" + agent), log);
    assertEquals(0, Battle.count(log, logFrom, "action=spawn"), "nothing spawned: " + log);
    assertEquals(0, Battle.count(log, logFrom, "action=stop"), "nothing stopped: " + log);
    assertEquals(agent, Battle.agentPid(host, HELLO));
    assertTrue(Battle.alive(agent));
    assertEquals(service, servicePid());
  }

  /** A service that runs but stops answering (SIGSTOP): its check fails, it is recycled. */
  @Test
  @Order(4)
  void serviceThatStopsAnsweringIsRecycled() throws Exception {
    long pid = servicePid();
    int restarts = service().path("restartsTotal").asInt();
    long stopped = System.nanoTime();
    Battle.signal(pid, "STOP");
    cluster.waitFor("hello answers from a new process", Duration.ofSeconds(90),
        () -> answers("v1") && cluster.servicePid(HOST, HELLO, HELLO).isPresent()
            && cluster.pidOfService(HOST, HELLO, HELLO) != pid);
    Cluster.timing("battle: service stops answering -> recycled and answering",
        Battle.elapsed(stopped));
    assertFalse(Battle.alive(pid), "the hung process was killed");
    cluster.waitFor("restart counted", UP, () -> service().path("restartsTotal").asInt()
        == restarts + 1);
  }

  /**
   * kill -9 of the control plane, away for a while (20 s short, 3 min full): hello answers
   * throughout; the launcher keeps reconciling on its persisted desired state (a killed agent is
   * respawned) and the agent keeps healing (a killed service comes back); on return the host
   * reconnects, says how long it was detached, restarts nothing, and the heal is reported.
   */
  @Test
  @Order(5)
  @Timeout(value = 600, unit = TimeUnit.SECONDS)
  void controlPlaneAwayWhileHostKeepsHealing() throws Exception {
    Duration away = Battle.controlPlaneAway();
    int logFrom = host.launcher().log().length();
    long agentBefore = Battle.agentPid(host, HELLO);
    long serviceBefore = servicePid();
    long cpKilled;
    long agentAfter;
    long serviceAfter;
    try (Battle.Prober prober = new Battle.Prober(cluster.helloPort(), "v1")) {
      cpKilled = System.nanoTime();
      cluster.kill9ControlPlane();

      // The launcher acts on its own: an agent killed now is respawned from the saved state.
      Thread.sleep(2000);
      long agentKilled = System.nanoTime();
      Cluster.kill9(agentBefore);
      cluster.waitFor("agent respawned without the control plane", UP, () -> {
        long now = Battle.agentPid(host, HELLO);
        return now != agentBefore && Battle.alive(now);
      });
      Cluster.timing("battle: control plane away, kill -9 agent -> respawned",
          Battle.elapsed(agentKilled));
      agentAfter = Battle.agentPid(host, HELLO);
      assertEquals(serviceBefore, servicePid(), "the respawned agent adopted the service");
      prober.assertAnsweredThroughout("the control plane's absence and an agent kill");
    }

    // The agent heals on its own: a service killed now comes back.
    Thread.sleep(3000); // let the new agent settle its checks
    long serviceKilled = System.nanoTime();
    Cluster.kill9(serviceBefore);
    cluster.waitFor("service healed without the control plane", UP, () -> answers("v1")
        && cluster.servicePid(HOST, HELLO, HELLO).isPresent());
    Cluster.timing("battle: control plane away, kill -9 service -> answering again",
        Battle.elapsed(serviceKilled));
    serviceAfter = servicePid();
    assertNotEquals(serviceBefore, serviceAfter);

    try (Battle.Prober prober = new Battle.Prober(cluster.helloPort(), "v1")) {
      long rest = away.toNanos() - Battle.since(cpKilled);
      if (rest > 0) {
        Thread.sleep(rest / 1_000_000);
      }
      assertTrue(host.launcher().isAlive());
      long restarted = System.nanoTime();
      cluster.startControlPlane();
      cluster.waitForHostOnline(HOST);
      Cluster.timing("battle: control plane back -> host online (" + away.toSeconds()
          + " s away)", Battle.elapsed(restarted));
      cluster.waitFor("the heal done while detached is reported", UP,
          () -> service().path("restartsTotal").asInt() == 1);
      Cluster.timing("battle: control plane back -> detached heal reported",
          Battle.elapsed(restarted));
      // The control plane keeps console lines in memory, so after its restart it holds only
      // what was shipped since: the healed service's start line, written while detached (no
      // service started after the reconnect: pids are checked below).
      cluster.waitFor("console lines from the detached time arrive", UP,
          () -> listeningLines() >= 1);
      Cluster.timing("battle: control plane back -> detached console lines shipped",
          Battle.elapsed(restarted));
      prober.assertAnsweredThroughout("the control plane's return");
    }
    String log = host.launcher().log();
    Optional<String> detachedFor = Battle.lastDetachedFor(log, logFrom);
    assertTrue(detachedFor.isPresent(), "the launcher logs how long it was detached: " + log);
    Duration reported = Duration.parse(detachedFor.get());
    assertTrue(reported.compareTo(away.minusSeconds(2)) >= 0, "detached_for " + reported
        + " covers the " + away + " away");
    System.out.println("TIMING battle: launcher reported detached_for=" + reported);
    assertEquals(agentAfter, Battle.agentPid(host, HELLO), "reconnecting restarted no agent");
    assertEquals(serviceAfter, servicePid(), "reconnecting restarted no service");
    assertEquals(1, Battle.count(log, logFrom, "action=spawn"), "one spawn: the killed agent");
  }

  /**
   * v2 cannot start (its start command exits 1): four deploy failures roll the agent back to
   * v1, which answers again; v2 is marked bad on disk and ctl status shows v1 known good.
   */
  @Test
  @Order(6)
  void versionThatCannotStartIsRolledBack() throws Exception {
    Path v2 = Battle.brokenStart(cluster.helloApp("v2"));
    long deployed = System.nanoTime();
    JsonNode result = cluster.deploy(v2, HELLO, HOST);
    String v2Sha = result.path("upload").path("payload").path("sha256").asText();
    cluster.waitFor("v2 marked bad by the agent", Duration.ofSeconds(120), () ->
        Battle.agentState(host, HELLO).path("versions").path("markedBad").toString()
            .contains(v2Sha));
    cluster.waitFor("hello v1 answers again", UP, () -> answers("v1"));
    Cluster.timing("battle: broken v2 deployed -> rolled back, v1 answering",
        Battle.elapsed(deployed));
    cluster.waitFor("ctl status shows v1 known good", UP, () -> {
      JsonNode on = onHost();
      return on.path("payload").path("sha256").asText().equals(v1Sha)
          && on.path("versionStatus").asText().equals("VERSION_STATUS_KNOWN_GOOD");
    });
    JsonNode agentState = Battle.agentState(host, HELLO);
    assertEquals(v1Sha, agentState.path("releaseSha256").asText());
    assertEquals(v1Sha, agentState.path("versions").path("knownGood").get(0).asText());
    String events = Files.readString(host.agentDir(HELLO).resolve("agent.log"));
    assertTrue(events.contains("ROLLED_BACK"), "rollback logged by the agent");
    assertEquals(4, Battle.count(events, 0, "DEPLOY_FAILED"), "exactly four deploy failures");
    // The host's rollback fails the rollout, and the control plane puts the deployment back on
    // v1 by itself; the host then runs v1 as desired (its launcher restarts the agent on v1 once).
    cluster.waitFor("the rollout of v2 is reverted", UP, () -> cluster.ctlJson("rollout", "status", HELLO)
        .path("state").asText().equals("ROLLOUT_STATE_REVERTED"));
    cluster.waitFor("the launcher runs v1 as desired", UP, () -> {
      JsonNode record = Battle.launcherState(host).path("agents").path(HELLO);
      return record.path("payload").path("sha256").asText().equals(v1Sha)
          && Battle.alive(record.path("process").path("pid").asLong());
    });
    // The agent started on the revert hands the service over and replaces it (one cluster: stop,
    // then start); the case ends once the replacement, started after that agent, answers.
    cluster.waitFor("v1 runs under the agent started on the revert", UP, () -> {
      java.time.Instant agentStarted = java.time.Instant.parse(Battle.launcherState(host).path("agents")
          .path(HELLO).path("process").path("startedAt").asText());
      JsonNode processes = Battle.agentState(host, HELLO).path("services").path(HELLO).path("processes");
      return processes.size() > 0
          && java.time.Instant.parse(processes.get(0).path("startedAt").asText()).isAfter(agentStarted)
          && answers("v1");
    });
    cluster.waitFor("v1 known good after the revert", UP, () -> answers("v1")
        && onHost().path("versionStatus").asText().equals("VERSION_STATUS_KNOWN_GOOD"));
  }

  /**
   * A payload corrupted, then one truncated, at rest on the control plane (its ciphertext rows in
   * the database): the host refuses both, caches and extracts neither, and v1 keeps answering
   * throughout.
   */
  @Test
  @Order(7)
  void corruptedAndTruncatedPayloadsNeverRun() throws Exception {
    try (Battle.Prober prober = new Battle.Prober(cluster.helloPort(), "v1")) {
      for (String damage : new String[] {"corrupted", "truncated"}) {
        host.launcher().kill9(); // so the upload can be damaged before the host fetches it
        Path app = cluster.helloApp("v-" + damage);
        String sha = cluster.deploy(app, HELLO, HOST).path("upload").path("payload")
            .path("sha256").asText();
        damageStoredCiphertext(sha, damage.equals("truncated"));
        int logFrom = host.launcher().log().length();
        long restarted = System.nanoTime();
        cluster.restartLauncher(HOST);
        cluster.waitFor("the launcher refuses the " + damage + " payload", UP, () ->
            Battle.count(host.launcher().log(), logFrom,
                "action=payload_not_cached deployment=hello reason=PAYLOAD_") > 0);
        java.util.regex.Matcher m = java.util.regex.Pattern
            .compile("action=payload_not_cached deployment=hello reason=(\\S+)")
            .matcher(host.launcher().log().substring(logFrom));
        assertTrue(m.find());
        String reason = m.group(1);
        Cluster.timing("battle: " + damage + " payload -> refused (" + reason + ")",
            Battle.elapsed(restarted));
        if (damage.equals("corrupted")) {
          assertTrue(reason.startsWith("PAYLOAD_REJECTED"), reason);
          cluster.waitFor("ctl hosts shows the agent's payload rejected", UP, () ->
              cluster.agentOnHost(HOST, HELLO).path("reason").asText().equals(reason));
        }
        assertEquals(0, Battle.count(host.launcher().log(), logFrom, "action=spawn"),
            "no agent started for the " + damage + " payload");
        assertFalse(Files.exists(host.cacheDir().resolve(sha)), damage + " payload was cached");
        assertFalse(Files.exists(host.agentDir(HELLO).resolve("releases").resolve(sha)),
            damage + " payload was extracted");
      }
      Thread.sleep(2000);
      prober.assertAnsweredThroughout("two damaged payloads");
    }
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Flips a bit in the middle of a payload's stored ciphertext, or cuts it to its first half, in
   * the control plane's database (its H2 file belongs to the running control plane, so it is
   * stopped with kill -9 for the edit and started again on the same data).
   */
  private void damageStoredCiphertext(String sha, boolean truncate) throws Exception {
    cluster.kill9ControlPlane();
    String url = "jdbc:h2:file:" + cluster.root().resolve("controlplane/controlplane");
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "sa", "")) {
      java.util.List<byte[]> rows = new java.util.ArrayList<>();
      try (var s = c.prepareStatement(
          "SELECT bytes FROM payload_chunks WHERE sha256 = ? ORDER BY chunk_index")) {
        s.setString(1, sha);
        try (var r = s.executeQuery()) {
          while (r.next()) {
            rows.add(r.getBytes(1));
          }
        }
      }
      long total = rows.stream().mapToLong(row -> row.length).sum();
      assertTrue(total > 0, "payload " + sha + " has ciphertext rows");
      long middle = total / 2;
      int index = 0;
      while (middle >= rows.get(index).length) {
        middle -= rows.get(index).length;
        index++;
      }
      byte[] row = rows.get(index);
      if (truncate) {
        row = java.util.Arrays.copyOf(row, (int) middle);
        try (var s = c.prepareStatement("DELETE FROM payload_chunks WHERE sha256 = ? AND chunk_index > ?")) {
          s.setString(1, sha);
          s.setInt(2, index);
          s.executeUpdate();
        }
      } else {
        row[(int) middle] ^= 0x40;
      }
      try (var s = c.prepareStatement(
          "UPDATE payload_chunks SET bytes = ? WHERE sha256 = ? AND chunk_index = ?")) {
        s.setBytes(1, row);
        s.setString(2, sha);
        s.setInt(3, index);
        assertEquals(1, s.executeUpdate());
      }
    }
    cluster.startControlPlane();
  }

  private boolean answers(String version) {
    return Cluster.httpGet(cluster.helloPort(), "/").equals(Optional.of(version));
  }

  private long servicePid() {
    return cluster.pidOfService(HOST, HELLO, HELLO);
  }

  private JsonNode onHost() {
    return cluster.deploymentOnHost(HELLO, HOST);
  }

  private JsonNode service() {
    for (JsonNode s : onHost().path("services")) {
      if (s.path("name").asText().equals(HELLO)) {
        return s;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  /** Lines "hello v1 listening on ..." the control plane holds for hello. */
  private int listeningLines() {
    return Battle.count(cluster.ctlOk("logs", HELLO, "--tail", "1000"), 0, "listening on");
  }

  private int crashesInWindow() throws Exception {
    return Battle.launcherState(host).path("agents").path(HELLO).path("crashes").size();
  }
}
