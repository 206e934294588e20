package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.process.ProcessIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real processes, real files: the engine as the agent will run it, with short timings. */
class SupervisorTest {

  private static final String SHA = "a".repeat(64);

  @TempDir Path tmp;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private final Map<String, Path> releases = new HashMap<>();
  private final List<Supervisor> supervisors = new ArrayList<>();
  private final List<Process> foreign = new ArrayList<>();
  private final List<AgentEvent> events = new ArrayList<>();

  private final AgentSettings settings = AgentSettings.defaults()
      .withStartWatch(Duration.ofMillis(300))
      .withHealing(8, Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofMinutes(10))
      .withTick(Duration.ofMillis(50));

  @AfterEach
  void tearDown() {
    supervisors.forEach(s -> {
      s.stop();
      s.close();
    });
    foreign.forEach(Process::destroyForcibly);
    scheduler.shutdownNow();
  }

  private Path release(String sha, String configYaml) throws Exception {
    Path dir = tmp.resolve("releases").resolve(sha.substring(0, 8));
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.yaml"), configYaml);
    releases.put(sha, dir);
    return dir;
  }

  private Supervisor supervisor() throws Exception {
    return supervisor(settings);
  }

  private Supervisor supervisor(AgentSettings settings) throws Exception {
    Supervisor s = new Supervisor(tmp.resolve("agent"), sha -> {
      Path dir = releases.get(sha);
      if (dir == null) {
        throw new java.io.IOException("no release " + sha);
      }
      return dir;
    }, settings, Clock.systemUTC(), scheduler);
    supervisors.add(s);
    return s;
  }

  private AgentSnapshot.ServiceSnapshot await(Supervisor s, String service,
      Predicate<AgentSnapshot.ServiceSnapshot> condition, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    AgentSnapshot.ServiceSnapshot last = null;
    while (System.nanoTime() < deadline) {
      last = s.snapshot().service(service).orElse(null);
      if (last != null && condition.test(last)) {
        return last;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("timed out waiting for " + what + "; last: " + last);
  }

  private List<AgentEvent> drain(Supervisor s) {
    events.addAll(s.drainEvents());
    return events;
  }

  private static boolean running(AgentSnapshot.ServiceSnapshot s) {
    return s.state() == ServiceState.RUNNING && s.health() == Health.HEALTHY;
  }

  private static final String HEALTHY_SERVICE = """
      services:
        api:
          run:
            preflight: [ "echo x >> preflight.count" ]
            start: [ "echo ok > healthy.flag; exec sleep 1000" ]
          healthcheck: { cmd: "cat healthy.flag", test: ok, interval: 200ms, timeout: 2s }
          stop_timeout: 1s
      """;

  // A preflight that exits non-zero fails the start: nothing runs, the failure names the step.
  @Test
  void preflightFailureIsAStartFailure() throws Exception {
    release(SHA, """
        services:
          api:
            run:
              preflight: [ "exit 7" ]
              start: [ "echo started > started.txt; exec sleep 1000" ]
        """);
    Supervisor s = supervisor();
    assertEquals(StartResult.Outcome.STARTED, s.start(SHA).outcome());
    AgentSnapshot.ServiceSnapshot failed =
        await(s, "api", x -> x.state() == ServiceState.FAILED, "FAILED");
    assertEquals(List.of(), failed.processes());
    assertEquals(8, failed.restartsTotal());
    assertTrue(!Files.exists(releases.get(SHA).resolve("started.txt")), "start never ran");
    AgentEvent first = drain(s).stream()
        .filter(e -> e.kind() == AgentEvent.Kind.SERVICE_UNHEALTHY).findFirst().orElseThrow();
    assertEquals("PREFLIGHT_FAILED", first.reason());
    assertEquals("'exit 7' exited 7; restart 1 of 8 at once (RESTART_AT_ONCE)", first.message());
  }

  // A start command exiting 0 is a finished step; one still running after the watch is supervised.
  @Test
  void startStepVersusSupervisedProcess() throws Exception {
    Path dir = release(SHA, """
        services:
          api:
            run:
              start: [ "echo step > step.txt", "exec sleep 1000" ]
        """);
    Supervisor s = supervisor();
    s.start(SHA);
    AgentSnapshot.ServiceSnapshot up = await(s, "api", SupervisorTest::running, "RUNNING");
    assertEquals(1, up.processes().size());
    assertEquals("step\n", Files.readString(dir.resolve("step.txt")));
    assertTrue(ProcessHandle.of(up.processes().get(0).pid()).orElseThrow().isAlive());
    assertEquals(0, up.restartsTotal());
  }

  // kill -9 of a supervised process is healed: new pid, one restart counted, healthy again.
  @Test
  void killedProcessIsHealed() throws Exception {
    Path dir = release(SHA, HEALTHY_SERVICE);
    Supervisor s = supervisor();
    s.start(SHA);
    long pid = await(s, "api", SupervisorTest::running, "RUNNING").processes().get(0).pid();
    new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
    AgentSnapshot.ServiceSnapshot healed = await(s, "api",
        x -> running(x) && x.restartsTotal() == 1 && !x.processes().isEmpty()
            && x.processes().get(0).pid() != pid, "healed");
    assertEquals(1, healed.restartsCounted());
    assertTrue(healed.lastCheckAt().isPresent());
    assertEquals(2, Files.readAllLines(dir.resolve("preflight.count")).size());
    List<AgentEvent.Kind> kinds = drain(s).stream().map(AgentEvent::kind).toList();
    // the version is still a candidate, so the crash also counts as a deploy failure
    assertEquals(List.of(AgentEvent.Kind.VERSION_STARTED, AgentEvent.Kind.SERVICE_UNHEALTHY,
        AgentEvent.Kind.DEPLOY_FAILED, AgentEvent.Kind.SERVICE_RECOVERED), kinds);
    assertEquals("PROCESS_EXITED", events.get(1).reason());
  }

  // A restart stays counted while the service is younger than the stable period; once it has
  // been healthy that long the count is earned back (the total stays).
  @Test
  void stableRunEarnsTheRestartBack() throws Exception {
    release(SHA, HEALTHY_SERVICE);
    Supervisor s = supervisor(settings.withHealing(8, Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofMillis(1500)));
    s.start(SHA);
    long pid = await(s, "api", SupervisorTest::running, "RUNNING").processes().get(0).pid();
    new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
    AgentSnapshot.ServiceSnapshot healed = await(s, "api",
        x -> running(x) && x.restartsTotal() == 1, "healed");
    assertEquals(1, healed.restartsCounted());
    AgentSnapshot.ServiceSnapshot stable = await(s, "api", x -> x.restartsCounted() == 0,
        "restart earned back");
    assertEquals(1, stable.restartsTotal());
    assertEquals(ServiceState.RUNNING, stable.state());
  }

  // A process that runs but fails its check is recycled (new pid).
  @Test
  void failingCheckRecyclesService() throws Exception {
    Path dir = release(SHA, HEALTHY_SERVICE);
    Supervisor s = supervisor();
    s.start(SHA);
    long pid = await(s, "api", SupervisorTest::running, "RUNNING").processes().get(0).pid();
    Files.delete(dir.resolve("healthy.flag"));
    AgentSnapshot.ServiceSnapshot recycled = await(s, "api",
        x -> running(x) && x.restartsTotal() == 1, "recycled");
    assertNotEquals(pid, recycled.processes().get(0).pid());
    assertTrue(ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), "old pid stopped");
    AgentEvent unhealthy = drain(s).stream()
        .filter(e -> e.kind() == AgentEvent.Kind.SERVICE_UNHEALTHY).findFirst().orElseThrow();
    assertEquals("CHECK_FAILED", unhealthy.reason());
  }

  private static String slowListener(String startPeriod) {
    // Healthy only 1.5 s after it starts, as a service that takes a while to listen.
    return """
        services:
          api:
            run:
              start: [ "(sleep 1.5; echo ok > healthy.flag) & exec sleep 1000" ]
            healthcheck: { cmd: "cat healthy.flag", test: ok, interval: 200ms, timeout: 2s%s }
            stop_timeout: 1s
        """.formatted(startPeriod);
  }

  // Within healthcheck.start_period a slow service's failing first checks are not failures.
  @Test
  void startPeriodLetsASlowServiceBecomeHealthyWithoutARestart() throws Exception {
    release(SHA, slowListener(", start_period: 5s"));
    Supervisor s = supervisor();
    s.start(SHA);
    AgentSnapshot.ServiceSnapshot up = await(s, "api", SupervisorTest::running, "RUNNING");
    assertEquals(0, up.restartsTotal());
    assertTrue(drain(s).stream().noneMatch(e -> e.kind() == AgentEvent.Kind.SERVICE_UNHEALTHY), events.toString());
  }

  // Without a start period the same service's first failing check counts: it is restarted.
  @Test
  void withoutAStartPeriodTheFirstFailingCheckCounts() throws Exception {
    release(SHA, slowListener(""));
    Supervisor s = supervisor();
    s.start(SHA);
    AgentEvent unhealthy = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (unhealthy == null && System.nanoTime() < deadline) {
      unhealthy = drain(s).stream().filter(e -> e.kind() == AgentEvent.Kind.SERVICE_UNHEALTHY).findFirst()
          .orElse(null);
      Thread.sleep(20);
    }
    assertTrue(unhealthy != null, "the first failing check must count: " + events);
    assertEquals("CHECK_FAILED", unhealthy.reason());
  }

  // A service that always crashes is FAILED after 8 healing attempts and then left alone.
  @Test
  void alwaysCrashingServiceFailsAfterEightAttempts() throws Exception {
    Path dir = release(SHA, """
        services:
          api:
            run:
              start: [ "echo x >> starts.count; sleep 0.4; exit 1" ]
        """);
    Supervisor s = supervisor();
    s.start(SHA);
    AgentSnapshot.ServiceSnapshot failed =
        await(s, "api", x -> x.state() == ServiceState.FAILED, "FAILED");
    assertEquals(8, failed.restartsTotal());
    assertEquals("BUDGET_EXHAUSTED", failed.reason());
    assertEquals(8, failed.restartsCounted());
    // the last restart died as all did (or, on a slow machine, within the start watch)
    // (a service in a cgroup is seen to exit when the cgroup empties, which names the cgroup)
    assertTrue(failed.lastFailure().matches(
        "PROCESS_EXITED: (process \\d+|every process of cgroup \\S+) \\(cluster 0\\) exited"
            + "|START_FAILED: .* exited 1 within the start watch"), failed.lastFailure());
    assertEquals(List.of(), failed.processes());
    Thread.sleep(700);
    assertEquals(9, Files.readAllLines(dir.resolve("starts.count")).size(), "1 start + 8 heals");
    assertEquals(ServiceState.FAILED, s.snapshot().service("api").orElseThrow().state());
    // each crash came right after its restart: at once, then 20 ms doubling to the 100 ms cap
    assertEquals(List.of("restart 1 of 8 at once (RESTART_AT_ONCE)",
        "restart 2 of 8 in 20 ms (QUICK_CRASH_BACKOFF)",
        "restart 3 of 8 in 40 ms (QUICK_CRASH_BACKOFF)",
        "restart 4 of 8 in 80 ms (QUICK_CRASH_BACKOFF)",
        "restart 5 of 8 in 100 ms (QUICK_CRASH_BACKOFF)",
        "restart 6 of 8 in 100 ms (QUICK_CRASH_BACKOFF)",
        "restart 7 of 8 in 100 ms (QUICK_CRASH_BACKOFF)",
        "restart 8 of 8 in 100 ms (QUICK_CRASH_BACKOFF)",
        "no restart left (BUDGET_EXHAUSTED)"), drain(s).stream()
            .filter(e -> e.kind() == AgentEvent.Kind.SERVICE_UNHEALTHY)
            .map(e -> e.message().substring(e.message().lastIndexOf("; ") + 2)).toList());
    List<AgentEvent> failedEvents = drain(s).stream()
        .filter(e -> e.kind() == AgentEvent.Kind.SERVICE_FAILED).toList();
    assertEquals(1, failedEvents.size());
    assertEquals("BUDGET_EXHAUSTED", failedEvents.get(0).reason());
    assertTrue(failedEvents.get(0).message().startsWith("8 restarts did not help (none stayed"
        + " healthy for PT10M); left stopped until a new version or an operator's restart;"
        + " last failure: process "), failedEvents.get(0).message());
  }

  // clusters=2 runs the start command once per cluster index, each with its own index.
  @Test
  void clustersRunOneProcessPerIndex() throws Exception {
    Path dir = release(SHA, """
        services:
          api:
            clusters: 2
            env: { GREETING: hi }
            run:
              start: [ "echo $GREETING $INFRAVEIL_SERVICE $INFRAVEIL_CLUSTER_INDEX > idx-$INFRAVEIL_CLUSTER_INDEX.txt; echo line-$INFRAVEIL_CLUSTER_INDEX; exec sleep 1000" ]
        """);
    Supervisor s = supervisor();
    s.start(SHA);
    AgentSnapshot.ServiceSnapshot up = await(s, "api", x -> running(x)
        && x.processes().size() == 2, "two processes");
    assertEquals(List.of(0, 1), up.processes().stream()
        .map(AgentSnapshot.ProcessSnapshot::clusterIndex).toList());
    assertNotEquals(up.processes().get(0).pid(), up.processes().get(1).pid());
    assertEquals("hi api 0\n", Files.readString(dir.resolve("idx-0.txt")));
    assertEquals("hi api 1\n", Files.readString(dir.resolve("idx-1.txt")));
    // the console lines reach the log queue through the tailer, tagged with their index
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    List<LogLine> lines = new ArrayList<>();
    while (lines.size() < 2 && System.nanoTime() < deadline) {
      lines.addAll(s.logQueue().drain(100));
      Thread.sleep(20);
    }
    assertEquals(Map.of(0, "line-0", 1, "line-1"), Map.of(
        lines.get(0).clusterIndex(), lines.get(0).text(),
        lines.get(1).clusterIndex(), lines.get(1).text()));
  }

  // A second supervisor over the same agent dir adopts the live processes: same pid, no preflight.
  @Test
  void restartedSupervisorAdoptsLiveProcesses() throws Exception {
    Path dir = release(SHA, HEALTHY_SERVICE);
    Supervisor first = supervisor();
    first.start(SHA);
    long pid = await(first, "api", SupervisorTest::running, "RUNNING").processes().get(0).pid();
    first.close(); // the agent goes away; its services stay
    supervisors.remove(first);

    Supervisor second = supervisor();
    assertEquals(StartResult.Outcome.ADOPTED, second.start(SHA).outcome());
    AgentSnapshot.ServiceSnapshot adopted = await(second, "api", SupervisorTest::running,
        "adopted and checked");
    assertEquals(pid, adopted.processes().get(0).pid());
    assertEquals(1, Files.readAllLines(dir.resolve("preflight.count")).size());
    // and supervises it: a kill -9 of the adopted (non-child) process is noticed and healed
    new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
    AgentSnapshot.ServiceSnapshot healed = await(second, "api",
        x -> running(x) && x.restartsTotal() == 1, "healed after adoption");
    assertNotEquals(pid, healed.processes().get(0).pid());
  }

  // An agent killed while its service is FAILED hands that on: the next one adopts it FAILED,
  // with the 8 restarts and the last failure, and starts nothing.
  @Test
  void killedAgentHandsOnAFailedServiceWithItsCountAndCause() throws Exception {
    Path dir = release(SHA, """
        services:
          api:
            run:
              start: [ "echo x >> starts.count; sleep 0.4; exit 1" ]
        """);
    Supervisor first = supervisor();
    first.start(SHA);
    AgentSnapshot.ServiceSnapshot failed =
        await(first, "api", x -> x.state() == ServiceState.FAILED, "FAILED");
    first.close(); // killed: nothing stopped, nothing handed over but the files
    supervisors.remove(first);

    Supervisor second = supervisor();
    assertEquals(StartResult.Outcome.ADOPTED, second.start(SHA).outcome());
    AgentSnapshot.ServiceSnapshot adopted =
        await(second, "api", x -> x.state() == ServiceState.FAILED, "adopted FAILED");
    assertEquals(8, adopted.restartsCounted());
    assertEquals("BUDGET_EXHAUSTED", adopted.reason());
    assertEquals(failed.lastFailure(), adopted.lastFailure());
    Thread.sleep(700);
    assertEquals(9, Files.readAllLines(dir.resolve("starts.count")).size(), "nothing restarted");
  }

  // A restart spent before the agent was killed still counts for its successor; a deliberate
  // stop (SIGTERM: restart of the deployment) gives the next agent a fresh budget.
  @Test
  void restartsCarryOverAKilledAgentButNotAStoppedOne() throws Exception {
    release(SHA, HEALTHY_SERVICE);
    Supervisor first = supervisor();
    first.start(SHA);
    long pid = await(first, "api", SupervisorTest::running, "RUNNING").processes().get(0).pid();
    new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
    await(first, "api", x -> running(x) && x.restartsTotal() == 1, "healed");
    first.close();
    supervisors.remove(first);

    Supervisor second = supervisor();
    second.start(SHA);
    assertEquals(1, await(second, "api", SupervisorTest::running, "adopted").restartsCounted());
    second.stop();
    second.close();
    supervisors.remove(second);

    Supervisor third = supervisor();
    third.start(SHA);
    // the STOPPED service is started again, which counts as the first restart of a new budget
    AgentSnapshot.ServiceSnapshot fresh = await(third, "api", SupervisorTest::running,
        "started again");
    assertEquals(1, fresh.restartsCounted());
    assertEquals(1, fresh.restartsTotal());
  }

  // A saved identity whose pid now belongs to another process (start time differs) is not adopted.
  @Test
  void reusedPidIsNotAdopted() throws Exception {
    Path dir = release(SHA, HEALTHY_SERVICE);
    Process stranger = new ProcessBuilder("sleep", "1000").start();
    foreign.add(stranger);
    ProcessIdentity real = ProcessIdentity.of(stranger.toHandle()).orElseThrow();
    AgentState saved = new AgentState(AgentState.FORMAT_VERSION, SHA,
        new VersionState(SHA, VersionStatus.CANDIDATE, List.of(), java.util.Set.of(), List.of()),
        Map.of("api", new AgentState.SavedService(ServiceState.RUNNING, List.of(
            new AgentState.SavedProcess(0, 0, real.pid(),
                real.startedAt().minusSeconds(3600))))));
    new FileAgentStateStore(tmp.resolve("agent")).save(saved);

    Supervisor s = supervisor();
    s.start(SHA);
    AgentSnapshot.ServiceSnapshot up = await(s, "api",
        x -> running(x) && !x.processes().isEmpty(), "started fresh");
    assertNotEquals(real.pid(), up.processes().get(0).pid());
    assertTrue(stranger.isAlive(), "the stranger was left alone");
    assertEquals(1, Files.readAllLines(dir.resolve("preflight.count")).size());
  }

  // A bad config.yaml is rejected with its line before anything is stopped.
  @Test
  void badConfigIsRejectedAndOldVersionKeepsRunning() throws Exception {
    release(SHA, HEALTHY_SERVICE);
    String bad = "b".repeat(64);
    release(bad, "services:\n  api:\n    clusters: two\n    run: { start: [ x ] }\n");
    Supervisor s = supervisor();
    s.start(SHA);
    long pid = await(s, "api", SupervisorTest::running, "RUNNING").processes().get(0).pid();
    StartResult result = s.start(bad);
    assertEquals(StartResult.Outcome.REJECTED, result.outcome());
    assertEquals("config.yaml:3: services.api.clusters: must be a positive integer, got \"two\"",
        result.message());
    AgentSnapshot snap = s.snapshot();
    assertEquals(SHA, snap.sha256().orElseThrow());
    assertEquals(pid, snap.service("api").orElseThrow().processes().get(0).pid());
    AgentEvent rejected = drain(s).stream()
        .filter(e -> e.kind() == AgentEvent.Kind.PAYLOAD_REJECTED).findFirst().orElseThrow();
    assertEquals(bad, rejected.sha256());
    assertEquals("BAD_CONFIG", rejected.reason());
  }

  // Three services that ignore SIGTERM, each with a 3 s stop_timeout, are stopped at once: all
  // got SIGTERM before the first timeout ran out, all were SIGKILLed, and stop() returned in
  // about one stop_timeout instead of the 9 s one service after another would take.
  @Test
  void servicesStopInParallelWithinTheirStopTimeout() throws Exception {
    String service = """
          %s:
            run:
              start: [ "trap 'date +%%s%%N >> term-%s.log' TERM; while :; do sleep 0.05; done" ]
            stop_timeout: 3s
        """;
    Path dir = release(SHA, "services:\n" + service.formatted("a", "a")
        + service.formatted("b", "b") + service.formatted("c", "c"));
    Supervisor s = supervisor();
    s.start(SHA);
    List<Long> pids = new ArrayList<>();
    for (String name : List.of("a", "b", "c")) {
      pids.add(await(s, name, x -> running(x) && !x.processes().isEmpty(), name + " RUNNING")
          .processes().get(0).pid());
    }
    long began = System.nanoTime();
    s.stop();
    Duration took = Duration.ofNanos(System.nanoTime() - began);

    List<Long> termAt = new ArrayList<>();
    for (String name : List.of("a", "b", "c")) {
      List<String> lines = Files.readAllLines(dir.resolve("term-" + name + ".log"));
      assertEquals(1, lines.size(), name + " got SIGTERM once: " + lines);
      termAt.add(Long.parseLong(lines.get(0)));
    }
    long spread = termAt.stream().mapToLong(Long::longValue).max().orElseThrow()
        - termAt.stream().mapToLong(Long::longValue).min().orElseThrow();
    assertTrue(spread < Duration.ofSeconds(3).toNanos(),
        "every service got SIGTERM within one stop_timeout, spread " + spread + " ns");
    for (long pid : pids) {
      assertTrue(ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), pid + " killed");
    }
    assertTrue(took.compareTo(Duration.ofSeconds(3)) >= 0, "each ignored SIGTERM: " + took);
    assertTrue(took.compareTo(Duration.ofSeconds(6)) < 0, "bounded by one stop_timeout: " + took);
    AgentState saved = new FileAgentStateStore(tmp.resolve("agent")).load();
    for (String name : List.of("a", "b", "c")) {
      assertEquals(ServiceState.STOPPED, saved.services().get(name).state());
    }
  }

  // stop() stops the process groups and saves STOPPED with no processes.
  @Test
  void stopStopsProcessesAndSaves() throws Exception {
    release(SHA, HEALTHY_SERVICE);
    Supervisor s = supervisor();
    s.start(SHA);
    long pid = await(s, "api", SupervisorTest::running, "RUNNING").processes().get(0).pid();
    s.stop();
    assertTrue(ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    AgentState saved = new FileAgentStateStore(tmp.resolve("agent")).load();
    assertEquals(AgentState.FORMAT_VERSION, saved.formatVersion());
    assertEquals(ServiceState.STOPPED, saved.services().get("api").state());
    assertEquals(List.of(), saved.services().get("api").processes());
  }
}
