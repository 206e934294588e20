package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The launcher's own fallback with real processes: the agent itself dies on a new payload (a
 * wrapper around the real agent exits 3 when desired.json names v2), so the agent's rollback
 * never gets a chance; from the first crash the launcher runs the last known good v1 in its
 * place (the seeds' pseudo-code), holds v2 back, and hello v1 answers again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CrashFallbackBattleIT {

  private static final Duration UP = Duration.ofSeconds(60);

  private Cluster cluster;

  @BeforeAll
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void startCluster() throws Exception {
    cluster = Cluster.start(Cluster.runDir("CrashFallbackBattleIT"));
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close(); // fails when any process is left behind
    }
  }

  @Test
  void agentDyingOnNewPayloadFallsBackToLastKnownGood() throws Exception {
    Path v2 = cluster.helloApp("v2");
    Path v1 = cluster.helloApp("v1");
    // Once it holds v1's hash, any agent started for another payload dies at once.
    Path marker = cluster.root().resolve("only-payload.txt");
    Path wrapper = cluster.root().resolve("agent-wrapper.sh");
    List<String> agent = new ArrayList<>(Cluster.mainCommand("agent"));
    StringBuilder exec = new StringBuilder("exec");
    agent.forEach(arg -> exec.append(" '").append(arg).append('\''));
    Files.writeString(wrapper, "#!/bin/sh\n"
        + "if [ -s '" + marker + "' ] && ! grep -q \"$(cat '" + marker + "')\" desired.json;"
        + " then echo crash >> crashes.txt; exit 3; fi\n" + exec + " \"$@\"\n");
    wrapper.toFile().setExecutable(true);

    Cluster.Host host = cluster.startHost("fb", cluster.grpcEndpoint(), List.of(
        "--agent-command", wrapper.toString(), "--crash-window", "PT10S", "--crash-limit", "6",
        "--suspend-cooldown", "PT60S", "--suspend-cooldown-max", "PT60S",
        "--agent-arg=--stabilization=PT2S", "--agent-arg=--heartbeat-interval=PT2S"));
    String v1Sha = cluster.deploy(v1, "hello", "fb").path("upload").path("payload")
        .path("sha256").asText();
    cluster.waitFor("hello v1 answers", UP, () -> answers("v1"));
    // The launcher's last known good: an agent that ran a whole crash window (10 s here).
    cluster.waitFor("v1 is the launcher's last known good", UP, () -> Battle.launcherState(host)
        .path("agents").path("hello").path("lastKnownGood").path("sha256").asText()
        .equals(v1Sha));

    Files.writeString(marker, v1Sha);
    long deployed = System.nanoTime();
    String v2Sha = cluster.deploy(v2, "hello", "fb").path("upload").path("payload")
        .path("sha256").asText();
    cluster.waitFor("the launcher holds v2 back", UP, () -> Battle.launcherState(host)
        .path("agents").path("hello").path("heldBack").path("sha256").asText().equals(v2Sha));
    cluster.waitFor("hello v1 answers again", UP, () -> answers("v1"));
    Cluster.timing("battle: agent dies on v2 -> launcher falls back, v1 answering",
        Battle.elapsed(deployed));

    Thread.sleep(3000); // a few reconcile passes: no restart loop, no suspension
    JsonNode record = Battle.launcherState(host).path("agents").path("hello");
    assertEquals(v1Sha, record.path("payload").path("sha256").asText(), record.toString());
    assertEquals("CRASHES_FALL_BACK_TO_LAST_KNOWN_GOOD", record.path("lastReason").asText());
    assertTrue(record.path("suspendedUntil").isNull(), record.toString());
    assertEquals(1, Files.readAllLines(host.agentDir("hello").resolve("crashes.txt")).size(),
        "one agent death on v2, then v1 stands in");
    assertTrue(Battle.alive(record.path("process").path("pid").asLong()));
    JsonNode desired = Battle.readJson(host.agentDir("hello").resolve("desired.json"));
    assertEquals(v1Sha, desired.path("payload").path("sha256").asText());
    cluster.waitFor("ctl hosts reports the fallback", UP, () -> {
      JsonNode status = cluster.agentOnHost("fb", "hello");
      return status.path("reason").asText().equals("CRASHES_FALL_BACK_TO_LAST_KNOWN_GOOD")
          && status.path("payload").path("sha256").asText().equals(v1Sha);
    });
  }

  private boolean answers(String version) {
    return Cluster.httpGet(cluster.helloPort(), "/").equals(Optional.of(version));
  }
}
