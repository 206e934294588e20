package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
 * Battle cases about the host's links: host "edge" reaches the control plane through a loopback
 * proxy that can blackhole the connection (keepalive must notice, the launcher and the agent
 * reconnect, the service never notices); host "loop" runs an agent command that always exits 3
 * (suspended after 6 crashes, resumed after a short cooldown, suspended again for twice as long).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NetworkBattleIT {

  private static final Duration UP = Duration.ofSeconds(60);
  /** DESIGN §9: a dead peer is noticed within 30 s (keepalive 10 s + 10 s, plus scheduling). */
  private static final Duration KEEPALIVE_BOUND = Duration.ofSeconds(30);

  private Cluster cluster;
  private Battle.BlackholeProxy proxy;

  @BeforeAll
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void startCluster() throws Exception {
    cluster = Cluster.start(Cluster.runDir("NetworkBattleIT"));
    proxy = new Battle.BlackholeProxy(cluster.grpcPort());
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    if (cluster != null) {
      cluster.close(); // fails when any process is left behind
    }
  }

  /**
   * The connection to the control plane silently stops carrying packets (no FIN, no RST): the
   * launcher's Sync stream notices within 30 s through keepalive, reconnects once packets flow
   * again, the agent's heartbeat comes back too, and hello answers throughout.
   */
  @Test
  @Order(1)
  void blackholedConnectionIsNoticedAndReconnected() throws Exception {
    Cluster.Host edge = cluster.startHost("edge", proxy.endpoint(), Battle.fastHost());
    cluster.deploy(cluster.helloApp("v1"), "hello", "edge");
    cluster.waitFor("hello answers", UP, () -> Cluster.httpGet(cluster.helloPort(), "/")
        .equals(Optional.of("v1")));
    cluster.waitFor("heartbeats arrive", UP, () -> !heartbeatAt().equals(Instant.EPOCH));
    cluster.waitFor("the agent saved the service's pid", UP,
        () -> cluster.servicePid("edge", "hello", "hello").isPresent());
    long agent = Battle.agentPid(edge, "hello");
    long service = cluster.pidOfService("edge", "hello", "hello");
    Node launcher = edge.launcher();
    int logFrom = launcher.log().length();
    int connectsBefore = Battle.count(launcher.log(), 0, "action=sync_connected");

    try (Battle.Prober prober = new Battle.Prober(cluster.helloPort(), "v1")) {
      long cut = System.nanoTime();
      proxy.blackhole();
      cluster.waitFor("the launcher notices the dead stream", KEEPALIVE_BOUND.plusSeconds(15),
          () -> Battle.count(launcher.log(), logFrom, "action=sync_lost") > 0);
      Duration noticed = Battle.elapsed(cut);
      Cluster.timing("battle: blackhole -> launcher notices (keepalive)", noticed);
      assertTrue(noticed.compareTo(KEEPALIVE_BOUND) <= 0, "noticed after " + noticed
          + ", more than " + KEEPALIVE_BOUND + ":\n" + launcher.log().substring(logFrom));

      long restored = System.nanoTime();
      Instant restoredAt = Instant.now();
      proxy.forward();
      cluster.waitFor("the launcher reconnects", UP, () ->
          Battle.count(launcher.log(), 0, "action=sync_connected") > connectsBefore);
      Cluster.timing("battle: blackhole lifted -> launcher reconnected", Battle.elapsed(restored));
      cluster.waitFor("the agent's heartbeat arrives again", UP,
          () -> heartbeatAt().isAfter(restoredAt));
      Cluster.timing("battle: blackhole lifted -> agent heartbeat again", Battle.elapsed(restored));
      Cluster.timing("battle: blackhole total (cut -> heartbeat again)", Battle.elapsed(cut));
      cluster.waitForHostOnline("edge");
      prober.assertAnsweredThroughout("a blackholed control-plane connection");
    }
    assertTrue(Battle.lastDetachedFor(launcher.log(), logFrom).isPresent(),
        "the launcher reports how long it was detached");
    assertEquals(agent, Battle.agentPid(edge, "hello"), "no agent restarted");
    assertEquals(service, cluster.pidOfService("edge", "hello", "hello"), "no service restarted");
    Battle.assertStateFilesIntact(edge, "hello");
  }

  /**
   * An agent that always exits 3: 7 starts (6 failed respawns), then SUSPENDED (5 s cooldown
   * here); after the cooldown 7 more starts and a second suspension twice as long.
   */
  @Test
  @Order(2)
  void crashLoopingAgentIsSuspendedThenResumedAfterCooldown() throws Exception {
    Path script = cluster.root().resolve("crashing-agent.sh");
    Files.writeString(script, "#!/bin/sh\necho \"start $(date +%s.%N)\" >> starts.txt\nexit 3\n");
    script.toFile().setExecutable(true);
    Cluster.Host loop = cluster.startHost("loop", cluster.grpcEndpoint(), List.of(
        "--agent-command", script.toString(), "--crash-window", "PT120S", "--crash-limit", "6",
        "--suspend-cooldown", "PT5S", "--suspend-cooldown-max", "PT60S"));
    long deployed = System.nanoTime();
    cluster.deploy(cluster.helloApp("loop"), "looping", "loop");
    Path starts = loop.agentDir("looping").resolve("starts.txt");

    cluster.waitFor("first suspension", UP, () -> suspensions(loop) == 1);
    Cluster.timing("battle: crash-looping agent -> suspended", Battle.elapsed(deployed));
    assertEquals(7, Files.readAllLines(starts).size(),
        "the first start and six failed respawns before the suspension");
    cluster.waitFor("ctl hosts shows it suspended", UP, () -> {
      JsonNode agent = cluster.agentOnHost("loop", "looping");
      return agent.path("state").asText().equals("AGENT_STATE_SUSPENDED")
          && agent.path("reason").asText().equals("CRASH_BUDGET_EXHAUSTED");
    });
    Instant until = Instant.parse(Battle.launcherState(loop).path("agents").path("looping")
        .path("suspendedUntil").asText());
    long suspendedAt = System.nanoTime();
    Thread.sleep(2000);
    assertEquals(7, Files.readAllLines(starts).size(), "nothing starts during the cooldown");

    cluster.waitFor("second suspension", UP, () -> suspensions(loop) == 2);
    Cluster.timing("battle: suspended -> resumed and suspended again (5 s cooldown)",
        Battle.elapsed(suspendedAt));
    assertEquals(14, Files.readAllLines(starts).size(), "seven more starts after the cooldown");
    String firstResumed = Files.readAllLines(starts).get(7).split(" ")[1];
    Instant resumedAt = Instant.ofEpochMilli((long) (Double.parseDouble(firstResumed) * 1000));
    assertTrue(!resumedAt.isBefore(until.minusMillis(50)), "resumed at " + resumedAt
        + ", before the cooldown ended at " + until);
    JsonNode record = Battle.launcherState(loop).path("agents").path("looping");
    Instant second = Instant.parse(record.path("suspendedUntil").asText());
    Duration cooldown = Duration.between(resumedAt, second);
    assertTrue(cooldown.compareTo(Duration.ofSeconds(9)) > 0, "second cooldown doubles: "
        + cooldown + " " + record);
    String log = loop.launcher().log();
    assertEquals(14, Battle.count(log, 0, "action=spawn deployment=looping"), log);
    assertEquals(1, Battle.count(log, 0, "reason=COOLDOWN_OVER held_back"), log);
    assertEquals(2, Battle.count(log, 0, "decision=SUSPEND reason=CRASH_BUDGET_EXHAUSTED"), log);
  }

  private int suspensions(Cluster.Host host) throws Exception {
    return Battle.launcherState(host).path("agents").path("looping").path("suspensions").asInt();
  }

  private Instant heartbeatAt() {
    String at = cluster.deploymentOnHost("hello", "edge").path("lastHeartbeatAt").asText("");
    return at.isEmpty() ? Instant.EPOCH : Instant.parse(at);
  }
}
