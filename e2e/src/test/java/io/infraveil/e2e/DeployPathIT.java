package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
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
 * The deploy path with real processes: a control plane, a launcher for host "a", its agent and
 * the hello service. The tests run in order on one cluster, each leaving hello serving.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeployPathIT {

  private static final String HOST = "a";
  private static final String DEPLOYMENT = "hello";
  private static final String SERVICE = "hello";
  private static final Duration UP = Duration.ofSeconds(60);

  private Cluster cluster;

  @BeforeAll
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void startCluster() throws Exception {
    cluster = Cluster.start(Cluster.runDir("DeployPathIT"));
    cluster.startHost(HOST);
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private Optional<String> hello(String path) {
    return Cluster.httpGet(cluster.helloPort(), path);
  }

  private long helloPid() {
    return cluster.pidOfService(HOST, DEPLOYMENT, SERVICE);
  }

  /** Proves a deployed payload runs and answers, and that a killed service is healed and counted. */
  @Test
  @Order(1)
  void helloAnswersAndIsHealedAfterKill9() throws Exception {
    Path v1 = cluster.helloApp("v1");
    long deployedAt = System.nanoTime();
    cluster.deploy(v1, DEPLOYMENT, HOST);
    cluster.waitFor("hello v1 answers /", UP, () -> hello("/").equals(Optional.of("v1")));
    Cluster.timing("deploy to first answer", Duration.ofNanos(System.nanoTime() - deployedAt));
    assertEquals(Optional.of("ok"), hello("/health"));
    cluster.waitFor("hello reported healthy", UP, () -> {
      JsonNode service = service();
      return service.path("health").asText().equals("HEALTH_STATUS_HEALTHY");
    });
    Cluster.timing("deploy to healthy in ctl status", Duration.ofNanos(System.nanoTime() - deployedAt));

    long pid = helloPid();
    long killedAt = System.nanoTime();
    Cluster.kill9(pid);
    cluster.waitFor("hello answers again after kill -9 of pid " + pid, UP,
        () -> hello("/").equals(Optional.of("v1")));
    Cluster.timing("kill -9 of the service to answering again",
        Duration.ofNanos(System.nanoTime() - killedAt));
    cluster.waitFor("the agent saved the new process", UP, () -> cluster.servicePid(HOST, DEPLOYMENT,
        SERVICE).isPresent());
    assertNotEquals(pid, helloPid(), "the service was restarted as a new process");
    cluster.waitFor("the restart counted in the heartbeat", UP, () -> {
      JsonNode service = service();
      return service.path("restartsTotal").asInt() >= 1;
    });
    JsonNode service = service();
    assertEquals(1, service.path("restartsTotal").asInt(), service.toString());
    assertTrue(service.path("restartsInWindow").asInt() >= 1, service.toString());
  }

  private JsonNode service() {
    for (JsonNode s : cluster.deploymentOnHost(DEPLOYMENT, HOST).path("services")) {
      if (s.path("name").asText().equals(SERVICE)) {
        return s;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }
}
