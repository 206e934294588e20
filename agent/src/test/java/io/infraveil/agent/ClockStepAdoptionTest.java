package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restarted agent adopts its live services although the system clock was stepped by an hour
 * since they started. A clock step moves the start instant the JDK derives from boot time by
 * the size of the step, so the saved start instants are shifted here by that much; the raw
 * start ticks are what the state file keeps and what adoption compares.
 */
class ClockStepAdoptionTest {

  private static final String SHA = "a".repeat(64);
  private static final String SERVICE = """
      services:
        api:
          run:
            preflight: [ "echo x >> preflight.count" ]
            start: [ "echo ok > healthy.flag; exec sleep 1000" ]
          healthcheck: { cmd: "cat healthy.flag", test: ok, interval: 200ms, timeout: 2s }
          stop_timeout: 1s
      """;

  @TempDir Path tmp;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private final List<Supervisor> supervisors = new ArrayList<>();

  @AfterEach
  void tearDown() {
    supervisors.forEach(s -> {
      s.stop();
      s.close();
    });
    scheduler.shutdownNow();
  }

  @Test
  void adoptsLiveServicesAfterTheClockWasSteppedByAnHour() throws Exception {
    Path release = tmp.resolve("release");
    Files.createDirectories(release);
    Files.writeString(release.resolve("config.yaml"), SERVICE);
    Supervisor first = supervisor(release);
    first.start(SHA);
    long pid = await(first, ClockStepAdoptionTest::running, "RUNNING").processes().get(0).pid();
    first.close(); // the agent goes away; its services stay
    supervisors.remove(first);

    FileAgentStateStore store = new FileAgentStateStore(tmp.resolve("agent"));
    AgentState saved = store.load();
    store.save(stepped(saved, Duration.ofHours(1)));

    Supervisor second = supervisor(release);
    assertEquals(StartResult.Outcome.ADOPTED, second.start(SHA).outcome());
    AgentSnapshot.ServiceSnapshot adopted =
        await(second, ClockStepAdoptionTest::running, "adopted and checked");
    assertEquals(pid, adopted.processes().get(0).pid(), "the live process was adopted");
    assertEquals(0, adopted.restartsTotal(), "nothing was healed or restarted");
    assertEquals(1, Files.readAllLines(release.resolve("preflight.count")).size(),
        "preflight ran once: the service was not started again");
    assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
  }

  /** The state as an agent would have saved it one {@code step} before the clock moved. */
  private static AgentState stepped(AgentState state, Duration step) {
    Map<String, AgentState.SavedService> services = new LinkedHashMap<>();
    state.services().forEach((name, s) -> services.put(name, new AgentState.SavedService(
        s.state(), s.processes().stream().map(p -> {
          assertTrue(p.startTicks() > 0, "start ticks saved for " + name);
          return new AgentState.SavedProcess(p.clusterIndex(), p.commandIndex(), p.pid(),
              p.startedAt().minus(step), p.startTicks());
        }).toList())));
    return new AgentState(state.formatVersion(), state.releaseSha256(), state.versions(),
        services);
  }

  private Supervisor supervisor(Path release) throws Exception {
    Supervisor s = new Supervisor(tmp.resolve("agent"), sha -> release,
        AgentSettings.defaults().withStartWatch(Duration.ofMillis(300))
            .withTick(Duration.ofMillis(50)),
        Clock.systemUTC(), scheduler);
    supervisors.add(s);
    return s;
  }

  private static AgentSnapshot.ServiceSnapshot await(Supervisor s,
      Predicate<AgentSnapshot.ServiceSnapshot> condition, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    AgentSnapshot.ServiceSnapshot last = null;
    while (System.nanoTime() < deadline) {
      last = s.snapshot().service("api").orElse(null);
      if (last != null && condition.test(last)) {
        return last;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("timed out waiting for " + what + "; last: " + last);
  }

  private static boolean running(AgentSnapshot.ServiceSnapshot s) {
    return s.state() == ServiceState.RUNNING && s.health() == Health.HEALTHY;
  }
}
