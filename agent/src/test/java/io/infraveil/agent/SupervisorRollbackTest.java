package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end with real processes: a healthy version becomes known good; a broken one fails to
 * start four times and the engine rolls back to the known good one on its own.
 */
class SupervisorRollbackTest {

  private static final String A = "a".repeat(64);
  private static final String B = "b".repeat(64);

  @TempDir Path tmp;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private Supervisor supervisor;

  @AfterEach
  void tearDown() {
    supervisor.stop();
    supervisor.close();
    scheduler.shutdownNow();
  }

  private Path release(String name, String startCommand) throws Exception {
    Path dir = tmp.resolve(name);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "%s" ]
            stop_timeout: 1s
        """.formatted(startCommand));
    return dir;
  }

  private AgentSnapshot await(String what, Predicate<AgentSnapshot> condition) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    AgentSnapshot last = supervisor.snapshot();
    while (System.nanoTime() < deadline) {
      last = supervisor.snapshot();
      if (condition.test(last)) {
        return last;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("timed out waiting for " + what + "; last: " + last);
  }

  @Test
  void brokenVersionRollsBackToKnownGoodAfterFourDeployFailures() throws Exception {
    Map<String, Path> releases = Map.of(A, release("a", "exec sleep 1000"),
        B, release("b", "exit 1"));
    AgentSettings settings = AgentSettings.defaults()
        .withStartWatch(Duration.ofMillis(200))
        .withHealing(8, Duration.ofMillis(20), Duration.ofMillis(50), Duration.ofMinutes(10))
        .withVersions(Duration.ofMillis(300), 4, Duration.ofMinutes(10))
        .withTick(Duration.ofMillis(50));
    supervisor = new Supervisor(tmp.resolve("agent"), releases::get, settings,
        Clock.systemUTC(), scheduler);

    assertEquals(StartResult.Outcome.STARTED, supervisor.start(A).outcome());
    await("A known good", s -> s.versionStatus() == VersionStatus.KNOWN_GOOD);

    assertEquals(StartResult.Outcome.STARTED, supervisor.start(B).outcome());
    AgentSnapshot back = await("rolled back to A", s -> s.sha256().equals(java.util.Optional.of(A))
        && s.service("api").map(x -> x.state() == ServiceState.RUNNING
            && x.processes().size() == 1).orElse(false));

    assertEquals(VersionStatus.KNOWN_GOOD, back.versionStatus());
    assertEquals(java.util.Optional.of(A), back.lastKnownGood());
    long pid = back.service("api").orElseThrow().processes().get(0).pid();
    assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "A runs");
    assertTrue(supervisor.isMarkedBad(B));

    supervisor.flushState(); // the state is written off the lanes
    AgentState saved = new FileAgentStateStore(tmp.resolve("agent")).load();
    assertEquals(A, saved.releaseSha256());
    assertEquals(java.util.Set.of(B), saved.versions().markedBad());
    assertEquals(List.of(A), saved.versions().knownGood());

    List<AgentEvent> events = new ArrayList<>(supervisor.drainEvents());
    List<AgentEvent> deployFailures = events.stream()
        .filter(e -> e.kind() == AgentEvent.Kind.DEPLOY_FAILED).toList();
    assertEquals(4, deployFailures.size(), events.toString());
    deployFailures.forEach(e -> {
      assertEquals(B, e.sha256());
      assertEquals("START_FAILED", e.reason());
    });
    AgentEvent rolledBack = events.stream().filter(e -> e.kind() == AgentEvent.Kind.ROLLED_BACK)
        .findFirst().orElseThrow();
    assertEquals(A, rolledBack.sha256());
    assertEquals("LIMIT_REACHED", rolledBack.reason());
    assertEquals("rolled back from " + B + " to last known good " + A, rolledBack.message());
    assertTrue(events.indexOf(rolledBack) > events.indexOf(deployFailures.get(3)));
  }
}
