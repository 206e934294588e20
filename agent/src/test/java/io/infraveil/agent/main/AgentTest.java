package io.infraveil.agent.main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.infraveil.agent.AgentSettings;
import io.infraveil.agent.AgentSnapshot;
import io.infraveil.agent.ServiceState;
import io.infraveil.agent.VersionStatus;
import io.infraveil.host.payload.CacheResult;
import io.infraveil.host.payload.PayloadOrigin;
import io.infraveil.payload.RejectionReason;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.PayloadRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole agent in-process over a real data dir and real processes; the payload cache is a
 * stand-in that answers per hash, the control plane is absent.
 */
class AgentTest {

  private static final String A = "a".repeat(64);
  private static final String B = "b".repeat(64);

  @TempDir Path data;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private final ManagedChannel nowhere =
      ManagedChannelBuilder.forAddress("127.0.0.1", 1).usePlaintext().build();
  private final List<Agent> agents = new ArrayList<>();
  /** The channel the next agent gets. */
  private io.grpc.Channel channel = nowhere;

  /** Answers ensureCached from a table; extracts by copying a prepared config.yaml. */
  final class StandInStore implements PayloadStore {
    final Map<String, CacheResult> answers = new ConcurrentHashMap<>();
    final List<String> extracted = new ArrayList<>();
    final List<PayloadOrigin> origins = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public CacheResult ensureCached(PayloadRef desired, PayloadOrigin origin) {
      origins.add(origin);
      return answers.getOrDefault(desired.getSha256(), CacheResult.unavailable("no answer"));
    }

    @Override
    public Path extract(PayloadRef payload, Path releasesDir) throws IOException {
      Path dir = releasesDir.resolve(payload.getSha256());
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("config.yaml"), """
          services:
            api:
              run:
                start: [ "exec sleep 1000" ]
              stop_timeout: 1s
          """);
      extracted.add(payload.getSha256());
      return dir;
    }
  }

  private final StandInStore store = new StandInStore();

  @AfterEach
  void tearDown() throws InterruptedException {
    agents.forEach(Agent::shutdown);
    scheduler.shutdownNow();
    nowhere.shutdownNow();
    // A metrics or state write already running must end before the temp dir is deleted.
    scheduler.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
  }

  private Agent agent(String sha, boolean retryMarkedBad) throws Exception {
    return agent(sha, retryMarkedBad, false);
  }

  private Agent agent(String sha, boolean retryMarkedBad, boolean launcherFallback)
      throws Exception {
    new AgentDesired(1, "web", new AgentDesired.Payload(sha, 10, 1, "v"), 1, retryMarkedBad,
        "127.0.0.1:1", launcherFallback).write(data);
    Agent.Settings settings = Agent.Settings.defaults().withEngine(AgentSettings.defaults()
            .withStartWatch(Duration.ofMillis(200))
            .withVersions(Duration.ofMillis(200), 4, Duration.ofMinutes(10))
            .withTick(Duration.ofMillis(50)))
        .withReporting(Duration.ofSeconds(10), Duration.ofMillis(200), Duration.ofSeconds(1),
            Duration.ofMillis(50), Duration.ofMillis(200));
    Agent agent = new Agent(data, "web", "web-1", settings, channel, store, Clock.systemUTC(),
        scheduler);
    agents.add(agent);
    return agent;
  }

  private static AgentSnapshot await(Agent agent, String what, Predicate<AgentSnapshot> test)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    AgentSnapshot last = agent.snapshot();
    while (System.nanoTime() < deadline) {
      last = agent.snapshot();
      if (test.test(last)) {
        return last;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("timed out waiting for " + what + "; last: " + last);
  }

  private static long runningPid(AgentSnapshot s) {
    return s.service("api").filter(x -> x.state() == ServiceState.RUNNING)
        .filter(x -> !x.processes().isEmpty()).map(x -> x.processes().get(0).pid()).orElse(-1L);
  }

  // Temp files of the agent's own state writes, left by a crash, are removed at start; the
  // launcher's desired.json temp (it may be writing right now) is left alone.
  // The metrics are made after the start carried out what to run (their registry and JVM
  // meters are a large part of a start): the file still shows the state as it is by then.
  @Test
  void writesMetricsOfTheStartedVersionOnceItRuns() throws Exception {
    store.answers.put(A, CacheResult.cached(data));
    Agent agent = agent(A, false);
    agent.start();
    await(agent, "A running", s -> runningPid(s) > 0);

    Path file = data.resolve("agents/web/metrics.prom");
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String text = "";
    while (System.nanoTime() < deadline
        && !text.contains("infraveil_agent_services_up{deployment=\"web\"} 1.0")) {
      text = Files.exists(file) ? Files.readString(file) : "";
      Thread.sleep(20);
    }
    assertTrue(text.contains("infraveil_agent_services_up{deployment=\"web\"} 1.0"), text);
    assertEquals(file, agent.metrics().file());
  }

  // The channel is built on a thread of its own (Agent.openChannel): the version the launcher
  // cached is verified, extracted and started without waiting for it.
  @Test
  void runsTheDesiredVersionWhileItsChannelIsStillBeingBuilt() throws Exception {
    java.util.concurrent.CompletableFuture<ManagedChannel> built =
        new java.util.concurrent.CompletableFuture<>();
    channel = DeferredChannel.of(built);
    store.answers.put(A, CacheResult.cached(data));
    Agent agent = agent(A, false);

    java.util.concurrent.CompletableFuture.runAsync(agent::start).get(30,
        java.util.concurrent.TimeUnit.SECONDS);

    assertTrue(runningPid(await(agent, "A running", s -> runningPid(s) > 0)) > 0);
    assertFalse(built.isDone(), "the channel was never needed");
    built.complete(nowhere);
  }

  @Test
  void removesStaleTempsOfItsOwnFilesAtStart() throws Exception {
    Path dir = data.resolve("agents/web");
    Files.createDirectories(dir);
    Path state = Files.writeString(dir.resolve(".agent_state.json.31337.tmp"), "{\"half");
    Path payloads = Files.writeString(dir.resolve(".payloads.json.42.tmp"), "{");
    Path launchers = Files.writeString(dir.resolve(".desired.json.77.tmp"), "{");

    agent(A, false);

    assertFalse(Files.exists(state));
    assertFalse(Files.exists(payloads));
    assertTrue(Files.exists(launchers), "the launcher's temp file is not the agent's to remove");
  }

  // A rejected new payload never runs; the next agent keeps A's live process (adopted, same
  // pid) and records the rejection with the cache's reason.
  @Test
  void rejectedPayloadKeepsTheKnownGoodVersionRunning() throws Exception {
    store.answers.put(A, CacheResult.cached(data));
    Agent first = agent(A, false);
    first.start();
    long pid = runningPid(await(first, "A known good",
        s -> s.versionStatus() == VersionStatus.KNOWN_GOOD && runningPid(s) > 0));
    first.close(); // let go, as a killed agent would
    agents.remove(first);

    store.answers.put(B, CacheResult.rejected(RejectionReason.HASH_MISMATCH, "hash differs"));
    Agent second = agent(B, false);
    second.start();

    assertEquals(StartPlan.Reason.PAYLOAD_REJECTED, second.plan().orElseThrow().reason());
    AgentSnapshot s = await(second, "A adopted", x -> runningPid(x) > 0);
    assertEquals(java.util.Optional.of(A), s.sha256());
    assertEquals(pid, runningPid(s), "adopted, not restarted");
    assertFalse(store.extracted.contains(B), "nothing of B extracted");
    assertFalse(Files.exists(data.resolve("agents/web/releases").resolve(B)));
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    HostEvent rejected = null;
    while (rejected == null && System.nanoTime() < deadline) {
      rejected = second.unackedEvents().stream()
          .filter(e -> e.getKind() == EventKind.EVENT_KIND_PAYLOAD_REJECTED).findFirst()
          .orElse(null);
      Thread.sleep(50);
    }
    assertTrue(rejected != null, "PAYLOAD_REJECTED kept for the control plane");
    assertEquals("HASH_MISMATCH", rejected.getReason());
    assertEquals("hash differs", rejected.getMessage());
    assertEquals("web", rejected.getDeployment());
    assertEquals(B, rejected.getPayload().getSha256());
    assertEquals(1, rejected.getPayload().getSequence());
  }

  // With the control plane away and nothing on disk, nothing runs, the agent stays up, and the
  // fetch is retried until the payload arrives; then the desired version starts.
  @Test
  void unavailablePayloadIsRetriedUntilItArrives() throws Exception {
    Agent agent = agent(A, false);
    agent.start();
    assertEquals(StartPlan.Reason.CONTROL_PLANE_UNAVAILABLE, agent.plan().orElseThrow().reason());
    assertTrue(agent.snapshot().sha256().isEmpty(), "nothing runs yet");

    store.answers.put(A, CacheResult.cached(data));
    AgentSnapshot s = await(agent, "A running after a retry", x -> runningPid(x) > 0);
    assertEquals(java.util.Optional.of(A), s.sha256());
    assertEquals(StartPlan.Reason.DESIRED, agent.plan().orElseThrow().reason());
  }

  // SIGTERM path: shutdown() stops the services; close() alone would have left them running.
  @Test
  void shutdownStopsServices() throws Exception {
    store.answers.put(A, CacheResult.cached(data));
    Agent agent = agent(A, false);
    agent.start();
    long pid = runningPid(await(agent, "A running", x -> runningPid(x) > 0));
    agent.shutdown();
    agents.remove(agent);
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "stopped");
  }

  // desired.json's launcherFallback reaches the cache as the launcher's own choice, so pinned
  // publisher keys judge the older sequence as a fallback; without it, as the control plane's.
  @Test
  void launcherFallbackInDesiredFileIsPassedToTheCache() throws Exception {
    store.answers.put(A, CacheResult.cached(data));
    Agent fallback = agent(A, false, true);
    fallback.start();
    await(fallback, "A running", x -> runningPid(x) > 0);
    assertEquals(List.of(PayloadOrigin.LAUNCHER_FALLBACK), store.origins);
    fallback.shutdown();
    agents.remove(fallback);

    store.origins.clear();
    Agent desired = agent(A, false, false);
    desired.start();
    await(desired, "A running", x -> runningPid(x) > 0);
    assertEquals(List.of(PayloadOrigin.CONTROL_PLANE), store.origins);
  }

  // A desired.json written before the flag existed reads as the control plane's choice.
  @Test
  void desiredFileWithoutTheFlagIsNotAFallback() throws Exception {
    Path file = data.resolve("agents/web/desired.json");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "{\"formatVersion\":1,\"deployment\":\"web\",\"payload\":{"
        + "\"sha256\":\"" + A + "\",\"size\":10,\"sequence\":1,\"version\":\"v\"},"
        + "\"generation\":1,\"retryMarkedBad\":false,\"controlPlane\":\"\"}");
    assertFalse(AgentDesired.read(data, "web").launcherFallback());
  }
}
