package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.infraveil.certs.TlsContexts;
import io.infraveil.proto.v1.DeleteDeploymentRequest;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
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
 * One supervisor per deployment and nothing left behind, with real processes: host "c" runs
 * hello (real agent, real service) and "loop", whose agent always dies (a wrapper around the
 * real agent exits 3 for it), so loop is suspended with a 10-minute cooldown. Then (1) the
 * launcher is killed and its state file replaced by random bytes: the new launcher adopts the
 * live hello agent (no second one) and loop stays suspended; (2) hello's agent is SIGSTOPped
 * and the deployment deleted: the agent and the service are killed, nothing of hello is left.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class LauncherContainmentBattleIT {

  private static final String HOST = "c";
  private static final Duration UP = Duration.ofSeconds(60);

  private Cluster cluster;
  private Cluster.Host host;

  @BeforeAll
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void startCluster() throws Exception {
    cluster = Cluster.start(Cluster.runDir("LauncherContainmentBattleIT"));
    Path wrapper = cluster.root().resolve("agent-wrapper.sh");
    StringBuilder exec = new StringBuilder("exec");
    Cluster.mainCommand("agent").forEach(arg -> exec.append(" '").append(arg).append('\''));
    Files.writeString(wrapper, "#!/bin/sh\n"
        + "case \"$*\" in *'--deployment loop'*) exit 3;; esac\n" + exec + " \"$@\"\n");
    wrapper.toFile().setExecutable(true);
    List<String> args = new ArrayList<>(Battle.fastHost());
    args.addAll(List.of("--agent-command", wrapper.toString(), "--crash-window", "PT120S",
        "--suspend-cooldown", "PT10M", "--stop-margin", "PT1S"));
    host = cluster.startHost(HOST, cluster.grpcEndpoint(), args);
    cluster.deploy(cluster.helloApp("v1"), "hello", HOST);
    cluster.waitFor("hello v1 answers", UP, () -> answers("v1"));
    // The agent records a start command's process once it outlived its 2 s watch.
    cluster.waitFor("hello's service recorded", UP, () -> cluster.servicePid(HOST, "hello",
        "hello").isPresent());
    cluster.deploy(cluster.helloApp("loop"), "loop", HOST);
    cluster.waitFor("loop suspended", UP, () -> Battle.launcherState(host).path("agents")
        .path("loop").path("suspensions").asInt() == 1);
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close(); // fails when any process is left behind
    }
  }

  @Test
  @Order(1)
  void stateFileOfRandomBytesLeadsToOneAgentPerDeployment() throws Exception {
    long agent = Battle.agentPid(host, "hello");
    long service = cluster.pidOfService(HOST, "hello", "hello");
    String loopUntil = Battle.launcherState(host).path("agents").path("loop")
        .path("suspendedUntil").asText();
    assertFalse(loopUntil.isEmpty());

    int logFrom = host.launcher().log().length(); // the restarted launcher appends to it
    host.launcher().kill9();
    byte[] noise = new byte[4096];
    new Random(11).nextBytes(noise);
    Files.write(host.dataDir().resolve("launcher_state.json"), noise);
    long restarted = System.nanoTime();
    cluster.restartLauncher(HOST);
    Cluster.timing("battle: scrambled state file -> launcher back, agent adopted",
        Battle.elapsed(restarted));
    Thread.sleep(3000); // a few reconcile passes: a second agent would be spawned by now

    String log = host.launcher().log().substring(logFrom);
    assertTrue(log.contains("action=state_unreadable"), log);
    assertTrue(log.contains("recovered_from=BACKUP"), log);
    assertTrue(log.contains("action=adopt deployment=hello pid=" + agent), log);
    assertEquals(0, Battle.count(log, 0, "action=spawn"), "nothing spawned: " + log); // since the restart
    assertEquals(agent, Battle.agentPid(host, "hello"));
    assertEquals(1, agentsOf("hello"), "one agent for hello");
    assertEquals(service, cluster.pidOfService(HOST, "hello", "hello"), "service untouched");
    JsonNode loop = Battle.launcherState(host).path("agents").path("loop");
    assertEquals(loopUntil, loop.path("suspendedUntil").asText(), "cooldown kept: " + loop);
    assertEquals(0, agentsOf("loop"));
    assertTrue(answers("v1"));
  }

  @Test
  @Order(2)
  void deleteOfDeploymentWhoseAgentIsStoppedLeavesNoProcess() throws Exception {
    long agent = Battle.agentPid(host, "hello");
    long service = cluster.pidOfService(HOST, "hello", "hello");
    Battle.signal(agent, "STOP"); // the agent can no longer stop its service itself
    int logFrom = host.launcher().log().length();

    long deleted = System.nanoTime();
    delete("hello");
    cluster.waitFor("nothing of hello runs", UP, () -> !Battle.alive(agent)
        && !Battle.alive(service) && ProcessScan.under(host.agentDir("hello")).isEmpty());
    Cluster.timing("battle: delete with a stopped agent -> no process left",
        Battle.elapsed(deleted));
    cluster.waitFor("hello forgotten", UP, () -> Battle.launcherState(host).path("agents")
        .path("hello").isMissingNode());

    String log = host.launcher().log().substring(logFrom);
    assertTrue(log.contains("action=stop_forced deployment=hello agent_exited_in_time=false"
        + " services_killed=[" + service + "]"), log);
    assertEquals(0, agentsOf("hello"));
    assertFalse(answers("v1"));
  }

  private void delete(String deployment) throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", cluster.grpcPort())
        .sslContext(TlsContexts.client(cluster.caFile(), cluster.pki().certFile("e2e"),
            cluster.pki().keyFile("e2e")))
        .build();
    try {
      OperatorServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .deleteDeployment(DeleteDeploymentRequest.newBuilder().setName(deployment).build());
    } finally {
      channel.shutdownNow();
    }
  }

  /** Live agent processes of a deployment on this host (by their command line). */
  private long agentsOf(String deployment) {
    return ProcessScan.under(host.dataDir()).stream()
        .filter(p -> p.cmdline().contains("--deployment " + deployment)).count();
  }

  private boolean answers(String version) {
    return Cluster.httpGet(cluster.helloPort(), "/").equals(Optional.of(version));
  }
}
