package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.infraveil.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The launcher's crash fallback on a host with a pinned publisher key, with real processes:
 * v1 and v2 are both signed, v2 has the higher sequence and is accepted, then every agent
 * started for v2 dies (a wrapper around the real agent exits 3 unless desired.json names v1).
 * The launcher falls back to v1, which this host accepted and ran before: v1 is cached again,
 * its agent starts and hello v1 answers, and no security event is raised, because the
 * fallback is the host's own choice and not a replay. (That the control plane naming an older
 * version is still refused is {@code PublisherSignatureIT}.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PinnedCrashFallbackIT {

  private static final Duration UP = Duration.ofSeconds(60);

  private Cluster cluster;
  private Path keys;

  @BeforeAll
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void startCluster() throws Exception {
    cluster = Cluster.start(Cluster.runDir("PinnedCrashFallbackIT"));
    keys = cluster.root().resolve("publisher-keys");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = new Main(Map.of()).execute(
        new String[] {"keys", "create-publisher", "--dir", keys.toString(), "release"},
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(out, true, StandardCharsets.UTF_8));
    assertEquals(0, code, out.toString(StandardCharsets.UTF_8));
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close(); // fails when any process is left behind
    }
  }

  private String signedDeploy(Path app) {
    return cluster.ctlJson("deploy", app.toString(), "--name", "hello", "--hosts", "pin",
        "--sign", keys.resolve("release.key").toString())
        .path("upload").path("payload").path("sha256").asText();
  }

  @Test
  void crashFallbackToLastKnownGoodRunsWithNoSecurityEvent() throws Exception {
    Path marker = cluster.root().resolve("only-payload.txt");
    Path wrapper = cluster.root().resolve("agent-wrapper.sh");
    List<String> agent = new ArrayList<>(Cluster.mainCommand("agent"));
    StringBuilder exec = new StringBuilder("exec");
    agent.forEach(arg -> exec.append(" '").append(arg).append('\''));
    Files.writeString(wrapper, "#!/bin/sh\n"
        + "if [ -s '" + marker + "' ] && ! grep -q \"$(cat '" + marker + "')\" desired.json;"
        + " then echo crash >> crashes.txt; exit 3; fi\n" + exec + " \"$@\"\n");
    wrapper.toFile().setExecutable(true);
    Cluster.Host host = cluster.startHost("pin", cluster.grpcEndpoint(), List.of(
        "--publisher-key", keys.resolve("release.pub").toString(),
        "--agent-command", wrapper.toString(), "--crash-window", "PT10S", "--crash-limit", "6",
        "--suspend-cooldown", "PT60S", "--suspend-cooldown-max", "PT60S",
        "--agent-arg=--stabilization=PT2S", "--agent-arg=--heartbeat-interval=PT2S"));

    String v1Sha = signedDeploy(cluster.helloApp("v1"));
    cluster.waitFor("hello v1 answers", UP, () -> answers("v1"));
    cluster.waitFor("v1 is the launcher's last known good", UP, () -> Battle.launcherState(host)
        .path("agents").path("hello").path("lastKnownGood").path("sha256").asText()
        .equals(v1Sha));

    Files.writeString(marker, v1Sha);
    String v2Sha = signedDeploy(cluster.helloApp("v2"));
    cluster.waitFor("the launcher holds v2 back", UP, () -> Battle.launcherState(host)
        .path("agents").path("hello").path("heldBack").path("sha256").asText().equals(v2Sha));
    cluster.waitFor("hello v1 answers again", UP, () -> answers("v1"));

    String accepted = Files.readString(host.cacheDir().resolve("sequences.json"));
    assertTrue(accepted.contains(v2Sha), "v2 was accepted, so v1 is older: " + accepted);
    JsonNode desired = Battle.readJson(host.agentDir("hello").resolve("desired.json"));
    assertEquals(v1Sha, desired.path("payload").path("sha256").asText(), desired.toString());
    assertTrue(desired.path("launcherFallback").asBoolean(), desired.toString());
    JsonNode record = Battle.launcherState(host).path("agents").path("hello");
    assertEquals("CRASHES_FALL_BACK_TO_LAST_KNOWN_GOOD", record.path("lastReason").asText(),
        record.toString());
    assertTrue(Battle.alive(record.path("process").path("pid").asLong()), record.toString());
    cluster.waitFor("ctl hosts reports the fallback", UP, () -> {
      JsonNode status = cluster.agentOnHost("pin", "hello");
      return status.path("reason").asText().equals("CRASHES_FALL_BACK_TO_LAST_KNOWN_GOOD")
          && status.path("payload").path("sha256").asText().equals(v1Sha);
    });
    Thread.sleep(5000); // a few agent heartbeats and launcher reports reach the control plane
    JsonNode events = cluster.ctlJson("security-events").path("events");
    for (JsonNode event : events) {
      assertTrue(!event.path("kind").asText().equals("PAYLOAD_REJECTED")
          && !event.path("message").asText().contains("STALE_SEQUENCE"),
          "no security event for the fallback: " + events);
    }
    assertEquals(Optional.of("v1"), Cluster.httpGet(cluster.helloPort(), "/"));
  }

  private boolean answers(String version) {
    return Cluster.httpGet(cluster.helloPort(), "/").equals(Optional.of(version));
  }
}
