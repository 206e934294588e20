package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.infraveil.host.process.cgroup.CgroupLayout;
import io.infraveil.host.process.cgroup.Cgroups;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service path in real cgroups: daemonizing start commands supervised, healed and stopped
 * with nothing left, limits enforced and OOM kills reported, services run as another account.
 * Skipped, saying why, only where no cgroup hierarchy is writable.
 */
class ServiceRunnerCgroupTest {

  private static final String SHA = "c".repeat(64);

  @TempDir Path tmp;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private final List<Supervisor> supervisors = new ArrayList<>();
  private final List<AgentEvent> events = new ArrayList<>();
  private Path release;
  private Path agentDir;

  private final AgentSettings settings = AgentSettings.defaults()
      .withStartWatch(Duration.ofMillis(300))
      .withHealing(8, Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofMinutes(10))
      .withTick(Duration.ofMillis(50));

  @BeforeEach
  void needsCgroups() throws Exception {
    CgroupLayout layout = CgroupLayout.system();
    assumeTrue(layout.tracks(), "skipped: no writable cgroup hierarchy here: "
        + layout.description());
    // Traversable by other accounts (a service running as nobody), like a host data dir.
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
    agentDir = tmp.resolve("agent");
    release = tmp.resolve("release");
    Files.createDirectories(release);
  }

  @AfterEach
  void tearDown() {
    supervisors.forEach(s -> {
      s.stop();
      s.close();
    });
    scheduler.shutdownNow();
    if (agentDir != null && CgroupLayout.system().tracks()) {
      Cgroups.KillReport left = new Cgroups(CgroupLayout.system(), agentDir)
          .killDeployment("agent", "KILL", Duration.ZERO);
      assertEquals(0, left.cgroups(), "cgroups left after stop: " + left);
    }
  }

  private Supervisor start(String configYaml) throws Exception {
    Files.writeString(release.resolve("config.yaml"), configYaml);
    Supervisor s = new Supervisor(agentDir, sha -> release, settings, Clock.systemUTC(),
        scheduler);
    supervisors.add(s);
    s.start(SHA);
    return s;
  }

  private static <T> T await(Supplier<T> read, Predicate<T> condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    T last = null;
    while (System.nanoTime() < deadline) {
      last = read.get();
      if (last != null && condition.test(last)) {
        return last;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("timed out waiting for " + what + "; last: " + last);
  }

  private AgentSnapshot.ServiceSnapshot await(Supervisor s, String service,
      Predicate<AgentSnapshot.ServiceSnapshot> condition, String what) throws Exception {
    return await(() -> s.snapshot().service(service).orElse(null), condition, what);
  }

  private long pidFrom(String file) throws Exception {
    Path path = release.resolve(file);
    String text = await(() -> {
      try {
        return Files.exists(path) ? Files.readString(path).trim() : null;
      } catch (java.io.IOException e) {
        return null;
      }
    }, t -> !t.isEmpty(), file);
    return Long.parseLong(text);
  }

  private static boolean gone(long pid) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(10);
    }
    return true;
  }

  private static boolean running(AgentSnapshot.ServiceSnapshot s) {
    return s.state() == ServiceState.RUNNING && s.health() == Health.HEALTHY;
  }

  /** A start command that double-forks a daemon (own session, parent gone) and exits 0. */
  private static final String DAEMON = """
      services:
        web:
          run:
            start: [ "rm -f daemon.pid; (setsid sh -c 'echo $$ > daemon.pid; exec sleep 300' &) ; exit 0" ]
          stop_timeout: 2s
      """;

  // A daemonizing start command is supervised: killing its daemon is a crash that is healed,
  // and stop leaves nothing of it.
  @Test
  void doubleForkedDaemonIsHealedAndStoppedCompletely() throws Exception {
    Supervisor s = start(DAEMON);
    AgentSnapshot.ServiceSnapshot up = await(s, "web", ServiceRunnerCgroupTest::running,
        "RUNNING");
    assertEquals(List.of(), up.processes(), "the start command itself exited");
    long daemon = pidFrom("daemon.pid");
    assertTrue(s.snapshot().containment().startsWith("cgroup "), s.snapshot().containment());

    ProcessHandle.of(daemon).orElseThrow().destroyForcibly();
    AgentSnapshot.ServiceSnapshot healed = await(s, "web",
        x -> x.restartsTotal() == 1 && running(x), "healed once");
    assertEquals(1, healed.restartsTotal());
    long replacement = pidFrom("daemon.pid");
    assertTrue(replacement != daemon, "a new daemon runs");
    events.addAll(s.drainEvents());
    AgentEvent crash = events.stream().filter(e -> e.kind() == AgentEvent.Kind.SERVICE_UNHEALTHY)
        .findFirst().orElseThrow();
    assertEquals("PROCESS_EXITED", crash.reason());
    assertTrue(crash.message().startsWith("every process of cgroup infraveil/"), crash.message());
    assertTrue(crash.message().contains("/agent/web-0 (cluster 0) exited; restart 1 of 8"),
        crash.message());
    assertTrue(events.stream().anyMatch(e -> e.kind() == AgentEvent.Kind.SERVICE_RECOVERED));

    s.stop();
    assertEquals(ServiceState.STOPPED, s.snapshot().service("web").orElseThrow().state());
    assertTrue(gone(replacement), "daemon " + replacement + " survived stop");
  }

  // A start command slower than the start watch (a busy `pm2 start`) that then exits during
  // the postflight, leaving its daemon: the instance runs on in its cgroup, no failed start
  // and no crash; the daemon's death is one.
  @Test
  void slowDaemonizingStartIsNotACrashWhenItsCommandExits() throws Exception {
    Supervisor s = start("""
        services:
          web:
            run:
              start: [ "echo $$ > command.pid; rm -f daemon.pid; (setsid sh -c 'echo $$ > daemon.pid; exec sleep 300' &); sleep 1; exit 0" ]
              postflight: [ "sleep 1.5" ]
            stop_timeout: 2s
        """);
    long command = pidFrom("command.pid");
    assertTrue(gone(command), "the start command exits after 1 s");
    // It exited during the postflight, which is no failed start either.
    await(s, "web", ServiceRunnerCgroupTest::running, "RUNNING");
    await(s, "web", x -> x.processes().isEmpty(), "the exited command no longer listed");
    Thread.sleep(3 * ServiceRunner.CGROUP_POLL.toMillis());
    AgentSnapshot.ServiceSnapshot still = s.snapshot().service("web").orElseThrow();
    assertEquals(ServiceState.RUNNING, still.state());
    assertEquals(0, still.restartsTotal());

    long daemon = pidFrom("daemon.pid");
    ProcessHandle.of(daemon).orElseThrow().destroyForcibly();
    await(s, "web", x -> x.restartsTotal() == 1 && running(x), "healed once");
  }

  // A service whose processes ignore SIGTERM is killed after stop_timeout: nothing survives.
  @Test
  void serviceIgnoringTermLeavesNothingAfterStop() throws Exception {
    Supervisor s = start("""
        services:
          stubborn:
            run:
              start: [ "trap '' TERM; sh -c 'echo $$ > child.pid; exec sleep 300' & exec sleep 300" ]
            stop_timeout: 300ms
        """);
    AgentSnapshot.ServiceSnapshot up = await(s, "stubborn", ServiceRunnerCgroupTest::running,
        "RUNNING");
    long main = up.processes().get(0).pid();
    long child = pidFrom("child.pid");
    long before = System.nanoTime();
    s.stop();
    assertTrue(gone(main), "main process survived");
    assertTrue(gone(child), "child ignoring TERM survived");
    assertTrue(Duration.ofNanos(System.nanoTime() - before).compareTo(Duration.ofMillis(300)) >= 0,
        "stop waited for stop_timeout before killing");
  }

  // Services stop at once, not one after another: the second is signalled before the first's
  // stop_timeout has run out.
  @Test
  void servicesOfADeploymentStopTogether() throws Exception {
    Supervisor s = start("""
        services:
          one:
            run: { start: [ "trap 'date +%s%N > one.term' TERM; while :; do sleep 0.1; done" ] }
            stop_timeout: 2s
          two:
            run: { start: [ "trap 'date +%s%N > two.term' TERM; while :; do sleep 0.1; done" ] }
            stop_timeout: 2s
        """);
    await(s, "one", ServiceRunnerCgroupTest::running, "one RUNNING");
    await(s, "two", ServiceRunnerCgroupTest::running, "two RUNNING");
    s.stop();
    long one = Long.parseLong(Files.readString(release.resolve("one.term")).trim());
    long two = Long.parseLong(Files.readString(release.resolve("two.term")).trim());
    assertTrue(Math.abs(one - two) < Duration.ofSeconds(2).toNanos(),
        "TERM to one and two " + Duration.ofNanos(Math.abs(one - two)) + " apart");
  }

  // A memory limit is enforced: a leaking service is OOM-killed, the crash says OOM with the
  // limit, counts as a crash (healed), and the snapshot carries the count and the limit.
  @Test
  void leakingServiceIsOomKilledAndReportedWithTheLimit() throws Exception {
    Supervisor s = start("""
        services:
          leaky:
            run:
              start: [ "sleep 0.5; x=$(head -c 67108864 /dev/zero | tr '\\\\0' a); exec sleep 300" ]
            resources: { memory: 16Mi, pids: 64, cpu: 0.5 }
            stop_timeout: 1s
        """);
    AgentSnapshot.ServiceSnapshot oom = await(s, "leaky", x -> x.oomKills() >= 1,
        "an OOM kill");
    assertEquals(16L << 20, oom.memoryLimitBytes());
    await(s, "leaky", x -> x.restartsTotal() >= 1, "a healing attempt");
    events.addAll(s.drainEvents());
    AgentEvent crash = events.stream().filter(e -> e.kind() == AgentEvent.Kind.SERVICE_UNHEALTHY)
        .findFirst().orElseThrow();
    assertEquals("OOM_KILLED", crash.reason());
    assertTrue(crash.message().startsWith("cluster 0 was killed by the kernel OOM killer at its"
        + " memory limit 16Mi (cgroup infraveil/"), crash.message());
  }

  // user: runs the service as that account; its release dir is handed over to it.
  @Test
  void serviceRunsAsAnotherUser() throws Exception {
    int nobody = Integer.parseInt(new String(new ProcessBuilder("id", "-u", "nobody").start()
        .getInputStream().readAllBytes()).trim());
    Supervisor s = start("""
        services:
          web:
            user: nobody
            run:
              start: [ "id -u > whoami.txt; exec sleep 300" ]
            stop_timeout: 1s
        """);
    AgentSnapshot.ServiceSnapshot up = await(s, "web", ServiceRunnerCgroupTest::running,
        "RUNNING");
    assertEquals(Integer.toString(nobody), await(() -> {
      try {
        Path f = release.resolve("whoami.txt");
        return Files.exists(f) ? Files.readString(f).trim() : null;
      } catch (java.io.IOException e) {
        return null;
      }
    }, t -> !t.isEmpty(), "whoami.txt"));
    long pid = up.processes().get(0).pid();
    assertEquals(nobody, ((Number) Files.getAttribute(Path.of("/proc/" + pid), "unix:uid"))
        .intValue());
    assertEquals(nobody, ((Number) Files.getAttribute(release.resolve("config.yaml"),
        "unix:uid")).intValue());
  }

  // An account that does not exist fails the start with a message that says what to do.
  @Test
  void unknownUserFailsTheStartAndSaysSo() throws Exception {
    Supervisor s = start("""
        services:
          web:
            user: no-such-account-x
            run: { start: [ "exec sleep 300" ] }
        """);
    await(s, "web", x -> x.state() == ServiceState.FAILED, "FAILED");
    events.addAll(s.drainEvents());
    AgentEvent first = events.stream().filter(e -> e.kind() == AgentEvent.Kind.SERVICE_UNHEALTHY)
        .findFirst().orElseThrow();
    assertEquals("START_FAILED", first.reason());
    assertEquals("user 'no-such-account-x' does not exist on this host; create the account or"
        + " change user: in config.yaml; restart 1 of 8 at once (RESTART_AT_ONCE)", first.message());
  }

  // A restarted agent adopts a daemonized service (cgroup still populated = running) without
  // restarting it, and still heals it when its daemon dies.
  @Test
  void restartedAgentAdoptsAndStillHealsADaemon() throws Exception {
    Supervisor first = start(DAEMON);
    await(first, "web", ServiceRunnerCgroupTest::running, "RUNNING");
    long daemon = pidFrom("daemon.pid");
    first.close();
    supervisors.remove(first);

    Supervisor second = new Supervisor(agentDir, sha -> release, settings, Clock.systemUTC(),
        scheduler);
    supervisors.add(second);
    assertEquals(StartResult.Outcome.ADOPTED, second.start(SHA).outcome());
    AgentSnapshot.ServiceSnapshot adopted = await(second, "web",
        ServiceRunnerCgroupTest::running, "adopted RUNNING");
    assertEquals(0, adopted.restartsTotal());
    assertEquals(daemon, pidFrom("daemon.pid"), "not restarted");

    ProcessHandle.of(daemon).orElseThrow().destroyForcibly();
    await(second, "web", x -> x.restartsTotal() == 1 && running(x), "healed after adoption");
    assertTrue(pidFrom("daemon.pid") != daemon);
  }
}
