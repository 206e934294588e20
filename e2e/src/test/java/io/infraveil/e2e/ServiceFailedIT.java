package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The healing budget end to end with real processes and the default budget: a service that
 * crashes 2.5 s after every start is restarted 8 times, FAILED at its 9th crash, left alone,
 * and `ctl status` and the incident say so with the count, the reason and the last failure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ServiceFailedIT {

  private static final String HOST = "sf";
  private static final Duration UP = Duration.ofSeconds(90);

  private Cluster cluster;

  @BeforeAll
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void startCluster() throws Exception {
    cluster = Cluster.start(Cluster.runDir("ServiceFailedIT"));
    cluster.startHost(HOST, cluster.grpcEndpoint(),
        List.of("--agent-arg=--heartbeat-interval=PT2S"));
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close(); // fails when any process is left behind
    }
  }

  private JsonNode crasher() {
    for (JsonNode service : cluster.deploymentOnHost("crash", HOST).path("services")) {
      if (service.path("name").asText().equals("crasher")) {
        return service;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  @Test
  void crashLoopingServiceIsFailedAfterEightRestartsAndReported() throws Exception {
    Path app = cluster.root().resolve("apps/crash");
    Files.createDirectories(app);
    // Alive after the 2 s start watch, so supervised; its exit 0.5 s later is a crash.
    Files.writeString(app.resolve("config.yaml"), """
        services:
          crasher:
            run:
              start: [ "echo start >> ../../starts.txt; sleep 2.5; exit 3" ]
        """);
    long deployed = System.nanoTime();
    cluster.deploy(app, "crash", HOST);
    cluster.waitFor("crasher FAILED in ctl status", UP,
        () -> crasher().path("state").asText().equals("SERVICE_STATE_FAILED"));
    Cluster.timing("deploy of a crash-looping service to FAILED",
        Duration.ofNanos(System.nanoTime() - deployed));

    JsonNode failed = crasher();
    assertEquals(8, failed.path("restartsInWindow").asInt(), failed.toString());
    assertEquals(8, failed.path("restartsTotal").asInt(), failed.toString());
    assertEquals("BUDGET_EXHAUSTED", failed.path("reason").asText(), failed.toString());
    assertTrue(failed.path("lastFailure").asText()
        .matches("PROCESS_EXITED: process \\d+ \\(cluster 0\\) exited"), failed.toString());
    assertEquals(0, failed.path("processes").size(), failed.toString());

    String table = cluster.ctlOk("status");
    assertTrue(table.lines().anyMatch(line -> line.matches(
        "crash +sf .* crasher +failed +\\S+ +8 \\(8 total\\) .* BUDGET_EXHAUSTED")), table);
    assertTrue(table.lines().anyMatch(line -> line.matches("crash/crasher on sf FAILED after 8"
        + " restarts \\(BUDGET_EXHAUSTED\\); last failure: PROCESS_EXITED: process \\d+"
        + " \\(cluster 0\\) exited; left stopped until a new version or a restart of the"
        + " deployment")), table);

    cluster.waitFor("a SERVICE_FAILED incident", UP, () -> {
      for (JsonNode incident : cluster.ctlJson("incidents", "--open").path("incidents")) {
        if (incident.path("rule").asText().equals("SERVICE_FAILED")
            && incident.path("service").asText().equals("crasher")) {
          return incident.path("summary").asText().contains("FAILED after 8 restarts:"
              + " BUDGET_EXHAUSTED; last failure: PROCESS_EXITED");
        }
      }
      return false;
    });

    // Left alone: 1 start and 8 restarts, and no more however long it is left.
    Path starts = cluster.hostDataDir(HOST).resolve("agents/crash/starts.txt");
    assertEquals(9, Files.readAllLines(starts).size());
    Thread.sleep(3_000);
    assertEquals(9, Files.readAllLines(starts).size());
    assertEquals("SERVICE_STATE_FAILED", crasher().path("state").asText());
  }
}
