package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.host.grpc.HostIdentityFiles;
import io.infraveil.proto.v1.FetchRequest;
import io.infraveil.proto.v1.PayloadServiceGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The deploy path with real processes: a control plane, a launcher for host "a", its agent and
 * the hello service. Host "a" talks to the control plane through {@link ControlPlaneProxy}, a
 * man in the middle that can alter or cut payload downloads. The tests run in order on one
 * cluster, each leaving hello serving.
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

  private ControlPlaneProxy proxy;
  /** The version the previous test left serving. */
  private String serving;

  @BeforeAll
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void startCluster() throws Exception {
    cluster = Cluster.start(Cluster.runDir("DeployPathIT"));
    // Host "a" (its launcher and agents) reaches the control plane only through the proxy.
    proxy = ControlPlaneProxy.start(cluster.pki(), cluster.grpcEndpoint(), cluster.hostDataDir(HOST));
    cluster.startHost(HOST, proxy.endpoint(), List.of());
  }

  @AfterAll
  void stopCluster() throws Exception {
    try {
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      if (proxy != null) {
        proxy.close();
      }
    }
  }

  private Optional<String> hello(String path) {
    return Cluster.httpGet(cluster.helloPort(), path);
  }

  /** The service's pid as the agent saved it (waits while the agent is still saving it). */
  private long helloPid() throws InterruptedException {
    cluster.waitFor("the agent saved the service's pid", UP,
        () -> cluster.servicePid(HOST, DEPLOYMENT, SERVICE).isPresent());
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
    assertNotEquals(pid, helloPid(), "the service was restarted as a new process");
    cluster.waitFor("the restart counted in the heartbeat", UP, () -> {
      JsonNode service = service();
      return service.path("restartsTotal").asInt() >= 1;
    });
    JsonNode service = service();
    assertEquals(1, service.path("restartsTotal").asInt(), service.toString());
    assertTrue(service.path("restartsInWindow").asInt() >= 1, service.toString());
    serving = "v1";
  }

  /** Proves that deploying a new version replaces the running one. */
  @Test
  @Order(2)
  void newVersionAnswers() throws Exception {
    Path v2 = cluster.helloApp("v2");
    long deployedAt = System.nanoTime();
    cluster.deploy(v2, DEPLOYMENT, HOST);
    cluster.waitFor("hello v2 answers /", UP, () -> hello("/").equals(Optional.of("v2")));
    Cluster.timing("deploy of a new version to it answering", Duration.ofNanos(System.nanoTime() - deployedAt));
    serving = "v2";
  }

  /**
   * Proves each check before running: a payload altered on the wire is rejected by the host,
   * never cached or run, reported, and the running version keeps running untouched. The
   * payload itself is genuine (only the proxy alters it), and the launcher keeps trying it while
   * it is desired, so the tamper is lifted only once the rollout has reverted the host to the
   * running version (auto_revert): lifted earlier, a retry would fetch bytes that verify and
   * switch hello under the next case.
   */
  @ParameterizedTest
  @EnumSource(value = ControlPlaneProxy.Tamper.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
  @Order(3)
  void tamperedPayloadIsRejectedAndTheRunningVersionKeepsServing(ControlPlaneProxy.Tamper tamper)
      throws Exception {
    long pid = helloPid();
    String expectedReason = switch (tamper) {
      case FLIP_CIPHERTEXT_BYTE -> "PAYLOAD_REJECTED_DECRYPT_FAILED";
      case WRONG_SHA256 -> "PAYLOAD_REJECTED_HASH_MISMATCH";
      case WRONG_HMAC -> "PAYLOAD_REJECTED_MAC_MISMATCH";
      default -> throw new AssertionError(tamper);
    };
    Node launcher = cluster.host(HOST).launcher();
    String sha;
    proxy.tamper(tamper);
    try {
      Path app = cluster.helloApp("tampered-" + tamper.name().toLowerCase(java.util.Locale.ROOT));
      sha = cluster.deploy(app, DEPLOYMENT, HOST).path("upload").path("payload")
          .path("sha256").asText();
      String shortSha = sha.substring(0, 12);
      Set<String> ranWhileTampered = ConcurrentHashMap.newKeySet();
      cluster.waitFor("the launcher reports " + expectedReason, UP, () -> {
        JsonNode agent = cluster.agentOnHost(HOST, DEPLOYMENT);
        ranWhileTampered.add(agent.path("payload").path("sha256").asText());
        return agent.path("reason").asText().equals(expectedReason);
      });
      JsonNode agent = cluster.agentOnHost(HOST, DEPLOYMENT);
      assertEquals("AGENT_STATE_RUNNING", agent.path("state").asText(), agent.toString());
      assertNotEquals(sha, agent.path("payload").path("sha256").asText(), agent.toString());
      assertFalse(ranWhileTampered.contains(sha), "the agent never ran " + sha + " while tampered");
      Path cache = cluster.host(HOST).cacheDir();
      assertFalse(Files.exists(cache.resolve(sha)), "nothing cached for " + sha);
      // The launcher keeps trying while the version is desired, so a partial file may exist
      // at any moment; what must hold is that no attempt resumed a rejected download.
      List<Long> offsets = proxy.fetches().stream().filter(f -> f.getSha256().equals(sha))
          .map(f -> f.getOffset()).toList();
      assertFalse(offsets.isEmpty(), "the host fetched " + sha);
      assertTrue(offsets.stream().allMatch(o -> o == 0L),
          "every fetch of a rejected download started again from 0: " + offsets);
      assertFalse(Files.exists(cluster.host(HOST).agentDir(DEPLOYMENT).resolve("releases").resolve(sha)),
          "nothing extracted for " + sha);
      assertEquals(Optional.of(serving), hello("/"));
      assertEquals(pid, helloPid(), "the running service was not restarted");
      cluster.waitFor("a PAYLOAD_REJECTED security event for " + shortSha, UP, () -> {
        for (JsonNode event : cluster.ctlJson("security-events").path("events")) {
          String message = event.path("message").asText();
          if (event.path("kind").asText().equals("PAYLOAD_REJECTED") && message.contains(shortSha)
              && message.contains(expectedReason)) {
            return true;
          }
        }
        return false;
      });
      cluster.waitFor("the rollout reverted host " + HOST + " from " + shortSha, UP,
          () -> !desiredPayloadOnHost().equals(sha) && !desiredPayloadOnHost().isEmpty());
    } finally {
      proxy.tamper(ControlPlaneProxy.Tamper.NONE);
    }
    assertFalse(launcher.output().matches("(?s).*action=spawn [^\\n]*payload=" + sha + ".*"),
        "no agent was ever spawned for " + sha);
    assertEquals(Optional.of(serving), hello("/"));
    assertEquals(pid, helloPid(), "the running service was not restarted");
  }

  /** The payload of the latest desired state the proxy forwarded to the host for hello. */
  private String desiredPayloadOnHost() {
    List<io.infraveil.proto.v1.DesiredState> states = proxy.desiredStates();
    if (states.isEmpty()) {
      return "";
    }
    return states.get(states.size() - 1).getAgentsList().stream()
        .filter(a -> a.getDeployment().equals(DEPLOYMENT))
        .map(a -> a.getPayload().getSha256()).findFirst().orElse("");
  }

  /**
   * Proves a download cut halfway resumes from where it stopped, and that the cache entry only
   * ever appears complete (one rename).
   */
  @Test
  @Order(4)
  void cutDownloadResumesAndNothingHalfWrittenAppearsInTheCache() throws Exception {
    Path app = cluster.helloApp("v3");
    byte[] noise = new byte[400 * 1024]; // incompressible: several 64 KiB records on the wire
    new java.util.Random(3).nextBytes(noise);
    Files.write(app.resolve("noise.bin"), noise);
    proxy.cutOnceAfter(150 * 1024);

    Path cache = cluster.host(HOST).cacheDir();
    Set<String> seen = ConcurrentHashMap.newKeySet();
    AtomicReference<String> sha = new AtomicReference<>();
    AtomicBoolean watching = new AtomicBoolean(true);
    Thread watcher = new Thread(() -> {
      while (watching.get()) {
        String hash = sha.get();
        if (hash != null) {
          Path entry = cache.resolve(hash);
          if (Files.isDirectory(entry)) {
            try {
              seen.add(Files.size(entry.resolve("payload.enc")) + "/" + Files.exists(entry.resolve("header.pb")));
            } catch (java.io.IOException e) {
              seen.add("unreadable: " + e);
            }
          }
        }
        try {
          Thread.sleep(2);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "cache-watcher");
    watcher.start();
    long deployedAt = System.nanoTime();
    try {
      JsonNode deployed = cluster.deploy(app, DEPLOYMENT, HOST);
      sha.set(deployed.path("upload").path("payload").path("sha256").asText());
      cluster.waitFor("hello v3 answers / after a cut download", UP,
          () -> hello("/").equals(Optional.of("v3")));
    } finally {
      watching.set(false);
      watcher.interrupt();
      watcher.join();
    }
    Cluster.timing("deploy of a 400 KiB payload with one cut to it answering",
        Duration.ofNanos(System.nanoTime() - deployedAt));
    serving = "v3";

    assertEquals(1, proxy.cuts(), "the proxy cut one Fetch stream");
    List<Long> offsets = proxy.fetches().stream()
        .filter(f -> f.getSha256().equals(sha.get())).map(f -> f.getOffset()).toList();
    assertEquals(0L, offsets.get(0), "first fetch from 0: " + offsets);
    assertTrue(offsets.stream().skip(1).anyMatch(o -> o > 0), "a fetch resumed: " + offsets);
    long size = Files.size(cache.resolve(sha.get()).resolve("payload.enc"));
    assertTrue(size > 400 * 1024, "payload.enc holds the whole ciphertext: " + size);
    assertFalse(seen.isEmpty(), "the watcher saw the entry");
    for (String observation : seen) {
      assertEquals(size + "/true", observation, "every observation of the entry was complete: " + seen);
    }
  }

  /** Proves a bad config.yaml is refused at upload with file, line and field; nothing changes. */
  @Test
  @Order(5)
  void badConfigIsRefusedAtUploadAndTheRunningVersionIsUntouched() throws Exception {
    long pid = helloPid();
    JsonNode before = cluster.deploymentOnHost(DEPLOYMENT, HOST).path("payload");
    Path app = cluster.helloApp("bad-config");
    Path config = app.resolve("config.yaml");
    List<String> lines = new java.util.ArrayList<>(Files.readAllLines(config));
    int service = lines.indexOf("  hello:");
    assertTrue(service >= 0, "config.yaml has the hello service: " + lines);
    lines.add(service + 1, "    clusters: two");
    Files.write(config, lines);
    int badLine = service + 2; // 1-based line of the inserted field

    Cluster.CtlResult result = cluster.ctl("deploy", app.toString(), "--name", DEPLOYMENT,
        "--hosts", HOST);
    assertEquals(1, result.code(), result.toString());
    assertTrue(result.err().contains("config.yaml:" + badLine), result.toString());
    assertTrue(result.err().contains("services.hello.clusters"), result.toString());

    assertEquals(Optional.of(serving), hello("/"));
    assertEquals(pid, helloPid(), "the running service was not restarted");
    assertEquals(before, cluster.deploymentOnHost(DEPLOYMENT, HOST).path("payload"));
  }

  /** Proves a host cannot fetch the payload of a deployment that is not placed on it. */
  @Test
  @Order(6)
  void hostAskingForAnotherHostsPayloadGetsPermissionDenied() throws Exception {
    cluster.startHost("b");
    String sha = cluster.deploymentOnHost(DEPLOYMENT, HOST).path("payload").path("sha256").asText();
    ManagedChannel asB = ControlPlaneChannels.mutualTls(cluster.grpcEndpoint(),
        HostIdentityFiles.inDataDir(cluster.hostDataDir("b")), ControlPlaneChannels.Settings.DEFAULTS);
    try {
      var responses = PayloadServiceGrpc.newBlockingStub(asB).withDeadlineAfter(10, TimeUnit.SECONDS)
          .fetch(FetchRequest.newBuilder().setDeployment(DEPLOYMENT).setSha256(sha).build());
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> responses.forEachRemaining(r -> { }));
      assertEquals(Status.Code.PERMISSION_DENIED, refused.getStatus().getCode(), refused.toString());
      assertTrue(String.valueOf(refused.getStatus().getDescription()).contains(DEPLOYMENT),
          refused.toString());
    } finally {
      asB.shutdownNow();
    }
    cluster.waitFor("the refusal recorded as a security event", UP, () -> {
      for (JsonNode event : cluster.ctlJson("security-events").path("events")) {
        if (event.path("identity").asText().endsWith("/host/b")
            && event.path("method").asText().contains("Fetch")) {
          return true;
        }
      }
      return false;
    });
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
