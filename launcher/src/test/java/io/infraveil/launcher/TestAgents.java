package io.infraveil.launcher;

import io.infraveil.host.process.ProcStat;
import io.infraveil.host.process.ProcessGroups;
import io.infraveil.host.time.MutableClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;

/** Stand-in agents (tiny shell scripts) and a reconciler fixture over one data dir. */
final class TestAgents {

  static final PayloadId V1 = new PayloadId("1".repeat(64), 10, 1, "v1");
  static final PayloadId V2 = new PayloadId("2".repeat(64), 20, 2, "v2");

  final Path data;
  final Path starts;
  final MutableClock clock = new MutableClock(Instant.now());
  final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
  final LauncherLog log = new LauncherLog(new PrintStream(logBytes, true, StandardCharsets.UTF_8), clock);

  TestAgents(Path data) {
    this.data = data;
    this.starts = data.resolve("starts.txt");
  }

  /** A script that appends "start <args>" to starts.txt, then runs {@code then}. */
  List<String> agent(String then) throws IOException {
    Path script = data.resolve("agent-" + Math.abs(then.hashCode()) + ".sh");
    Files.writeString(script, "#!/bin/sh\necho \"start $*\" >> '" + starts + "'\n" + then + "\n");
    script.toFile().setExecutable(true);
    return List.of("sh", script.toString());
  }

  Reconciler reconciler(List<String> command, StateStore store, CrashBudget budget,
      PayloadPrefetcher prefetcher, ScheduledExecutorService scheduler) {
    // An agent asked to stop gets 2 s (no release config here, so the minimum applies).
    return new Reconciler(new Reconciler.Settings(data, "cp.test:7443", command,
        Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofHours(1)), store, budget,
        prefetcher, clock, scheduler, log);
  }

  static ScheduledExecutorService scheduler() {
    return Executors.newSingleThreadScheduledExecutor();
  }

  List<String> startLines() throws IOException {
    return Files.exists(starts) ? Files.readAllLines(starts) : List.of();
  }

  String logText() {
    return logBytes.toString(StandardCharsets.UTF_8);
  }

  /** The pids named by the launcher's log lines of {@code action}, in the order logged. */
  List<String> pidsLogged(String action) {
    return logText().lines()
        .filter(line -> line.contains(" action=" + action + " "))
        .map(line -> line.replaceFirst(".* pid=(\\d+) .*", "$1"))
        .toList();
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  /**
   * True while the process runs. An exited process whose parent died stays a zombie until
   * PID 1 reaps it, and not every container's PID 1 does: a zombie runs nothing.
   */
  static boolean runs(io.infraveil.host.process.ProcessIdentity process) {
    return process.isAlive() && ProcStat.isRunning(process.pid());
  }

  /** Kills whatever agents a state still names. */
  static void killAll(LauncherState state) {
    state.agents().values().forEach(r -> {
      if (r.process() != null) {
        ProcessGroups.stopGroup(r.process(), "KILL", Duration.ofSeconds(1));
      }
    });
  }

  static DesiredSnapshot desired(long revision, DesiredAgentSpec... agents) {
    return new DesiredSnapshot(revision, List.of(agents));
  }

  static DesiredAgentSpec web(PayloadId payload, long generation, boolean stop) {
    return new DesiredAgentSpec("web", payload, generation, stop, false);
  }
}
