package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A cache entry on a host whose bytes were replaced by another version's: deploying that
 * version again evicts the entry, fetches it again, verifies it and runs it, with no one
 * clearing the cache, and the eviction is reported once. Likewise a release dir whose shipped
 * files were changed is extracted again before the version runs from it.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CacheHealingBattleIT {

  private static final Duration UP = Duration.ofSeconds(60);

  @Test
  void tamperedCacheEntryIsEvictedAndTheVersionRunsAgainAfterARefetch() throws Exception {
    try (Cluster cluster = Cluster.start(Cluster.runDir("CacheHealingBattleIT"))) {
      Cluster.Host host = cluster.startHost("web-1", cluster.grpcEndpoint(), Battle.fastHost());
      Path v1 = cluster.helloApp("v1");
      String v1Sha = sha(cluster.deploy(v1, "hello", "web-1"));
      cluster.waitFor("hello v1 answers", UP, () -> answers(cluster, "v1"));
      String v2Sha = sha(cluster.deploy(cluster.helloApp("v2"), "hello", "web-1"));
      cluster.waitFor("hello v2 answers", UP, () -> answers(cluster, "v2"));

      // v1's cached ciphertext replaced by v2's, and its extracted release gone.
      Path v1Bytes = host.cacheDir().resolve(v1Sha).resolve("payload.enc");
      byte[] genuine = Files.readAllBytes(v1Bytes);
      byte[] v2Bytes = Files.readAllBytes(host.cacheDir().resolve(v2Sha).resolve("payload.enc"));
      Files.write(v1Bytes, v2Bytes);
      deleteTree(host.agentDir("hello").resolve("releases").resolve(v1Sha));
      int logFrom = host.launcher().log().length();

      assertEquals(v1Sha, sha(cluster.deploy(v1, "hello", "web-1")), "the same bytes again");
      cluster.waitFor("hello v1 answers again", UP, () -> answers(cluster, "v1"));

      assertFalse(Arrays.equals(v2Bytes, Files.readAllBytes(v1Bytes)), "the bad bytes are gone");
      assertEquals(genuine.length, Files.size(v1Bytes));
      Thread.sleep(3000); // a few more reconcile passes and reports: still reported once
      assertEquals(1, Battle.count(host.launcher().log(), logFrom, "action=cache_entry_evicted"),
          host.launcher().log().substring(logFrom));
      cluster.waitFor("the eviction reached the control plane", UP,
          () -> evictionsReported(cluster) > 0);
      Thread.sleep(2000);
      assertEquals(1, evictionsReported(cluster));

      // v1's extracted release now says it is v9: the next start of v1 must not run it.
      Path version = host.agentDir("hello").resolve("releases").resolve(v1Sha).resolve("VERSION");
      Files.writeString(version, "v9\n");
      cluster.deploy(cluster.helloApp("v2"), "hello", "web-1");
      cluster.waitFor("hello v2 answers", UP, () -> answers(cluster, "v2"));
      cluster.deploy(v1, "hello", "web-1");
      cluster.waitFor("hello v1 answers from a release extracted again", UP,
          () -> answers(cluster, "v1"));
      assertEquals("v1\n", Files.readString(version));
      cluster.waitFor("the repair reached the control plane", UP,
          () -> evictionsReported(cluster) == 2);
      assertEquals(1, releaseRepairsReported(cluster));
    }
  }

  private static long releaseRepairsReported(Cluster cluster) {
    long n = 0;
    for (JsonNode event : cluster.ctlJson("security-events", "--limit", "1000").path("events")) {
      if (event.path("message").asText().contains("did not match payload")) {
        n++;
      }
    }
    return n;
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static String sha(JsonNode deployed) {
    return deployed.path("upload").path("payload").path("sha256").asText();
  }

  private static boolean answers(Cluster cluster, String version) {
    return Cluster.httpGet(cluster.helloPort(), "/").equals(Optional.of(version));
  }

  private static long evictionsReported(Cluster cluster) {
    long n = 0;
    for (JsonNode event : cluster.ctlJson("security-events", "--limit", "1000").path("events")) {
      if (event.path("kind").asText().equals("PAYLOAD_REJECTED")
          && event.path("message").asText().contains("CACHE_ENTRY_EVICTED")) {
        n++;
      }
    }
    return n;
  }
}
