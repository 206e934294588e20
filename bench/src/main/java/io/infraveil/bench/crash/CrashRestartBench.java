package io.infraveil.bench.crash;

import io.infraveil.host.jvm.HostJvmOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Crash → replacement started, under Infraveil's agent engine, supervisord and pm2 in one run.
 * The same service runs under each: a bash script that appends {@code "$$ $EPOCHREALTIME"} to a
 * stamp file, then execs {@code sleep}. The bench SIGKILLs the current pid, noting the time
 * just before the kill, and reads the replacement's own start stamp; the difference is the
 * figure. Kills are spaced by {@code interval} so each supervisor restarts at once (a run
 * longer than its 1 s "started" threshold); supervisors not installed are skipped, saying so.
 *
 * <p>{@code infraveil} is the agent's engine with cgroups where the host has them (on a hybrid
 * host one cgroup v2 and three v1 joins per start), {@code infraveil-pg} the same with process
 * groups only, as supervisord and pm2 run their services.
 *
 * <pre>java -cp ... io.infraveil.bench.crash.CrashRestartBench [kills=50] [intervalMs=2500]
 *     [infraveil-only]</pre>
 */
public final class CrashRestartBench {

  /** One supervisor's latencies, in microseconds. */
  public record Series(String name, List<Long> micros) {
    public double percentileMs(double p) {
      List<Long> sorted = micros.stream().sorted().toList();
      int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
      return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index))) / 1000.0;
    }

    public String describe() {
      return String.format(Locale.ROOT, "%-12s n=%d  p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms",
          name, micros.size(), percentileMs(50), percentileMs(99), percentileMs(100));
    }
  }

  /** Everything one run measured, and what it skipped. */
  public record Result(Map<String, Series> series, List<String> skipped) {
    public String describe() {
      StringBuilder out = new StringBuilder("crash -> replacement started (SIGKILL to the"
          + " replacement's own start stamp)\n");
      series.values().forEach(s -> out.append("  ").append(s.describe()).append('\n'));
      for (Series infraveil : series.values()) {
        if (!infraveil.name().startsWith("infraveil")) {
          continue;
        }
        series.values().stream().filter(s -> !s.name().startsWith("infraveil")).forEach(s ->
            out.append(String.format(Locale.ROOT, "  %s / %s: p50 %.1fx, p99 %.1fx%n",
                s.name(), infraveil.name(), s.percentileMs(50) / infraveil.percentileMs(50),
                s.percentileMs(99) / infraveil.percentileMs(99))));
      }
      skipped.forEach(s -> out.append("  skipped: ").append(s).append('\n'));
      return out.toString();
    }
  }

  private static final Duration FIRST_START = Duration.ofSeconds(60);
  private static final Duration REPLACEMENT = Duration.ofSeconds(30);

  private final Path root;
  private final Path work;
  private final int kills;
  private final Duration interval;
  private final boolean anchors;

  CrashRestartBench(Path root, Path work, int kills, Duration interval, boolean anchors) {
    this.root = root;
    this.work = work;
    this.kills = kills;
    this.interval = interval;
    this.anchors = anchors;
  }

  public static void main(String[] args) throws Exception {
    int kills = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    Duration interval = Duration.ofMillis(args.length > 1 ? Long.parseLong(args[1]) : 2500);
    boolean anchors = !(args.length > 2 && args[2].equals("infraveil-only"));
    Path work = Files.createTempDirectory("infraveil-crash-bench");
    System.out.print(run(repoRoot(), work, kills, interval, anchors).describe());
    System.out.println("  load average at the end: " + Files.readString(Path.of("/proc/loadavg"))
        .trim());
  }

  /**
   * Runs Infraveil's engine with cgroups (as on this host) and with process groups only, then
   * every anchor installed unless {@code anchors} is false; {@code root} is the checkout.
   */
  public static Result run(Path root, Path work, int kills, Duration interval, boolean anchors)
      throws Exception {
    return new CrashRestartBench(root, work, kills, interval, anchors).runAll();
  }

  /** The checkout: the nearest directory up from here that holds scripts/install-pm2.sh. */
  public static Path repoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("scripts/install-pm2.sh"))) {
      dir = dir.getParent();
    }
    return dir == null ? Path.of("").toAbsolutePath() : dir;
  }

  private Result runAll() throws Exception {
    Map<String, Series> series = new LinkedHashMap<>();
    List<String> skipped = new ArrayList<>();
    series.put("infraveil", measure("infraveil", dir -> startInfraveil(dir, false)));
    series.put("infraveil-pg", measure("infraveil-pg", dir -> startInfraveil(dir, true)));
    if (!anchors) {
      skipped.add("supervisord and pm2 (infraveil only was asked for)");
      return new Result(series, skipped);
    }
    Path supervisord = root.resolve(".tools/supervisor/supervisord");
    if (Files.isExecutable(supervisord)) {
      series.put("supervisord", measure("supervisord", dir -> startSupervisord(supervisord, dir)));
    } else {
      skipped.add("supervisord (not installed: run scripts/install-supervisord.sh)");
    }
    Path pm2 = root.resolve(".tools/pm2/node_modules/.bin/pm2");
    if (Files.isExecutable(pm2)) {
      series.put("pm2", measure("pm2", dir -> startPm2(pm2, dir)));
    } else {
      skipped.add("pm2 (not installed: run scripts/install-pm2.sh)");
    }
    return new Result(series, skipped);
  }

  /** A supervisor running the stamp service; close() stops it and the service. */
  interface Running extends AutoCloseable {
    @Override
    void close() throws Exception;
  }

  interface Starter {
    Running start(Path dir) throws Exception;
  }

  private Series measure(String name, Starter starter) throws Exception {
    Path dir = Files.createDirectories(work.resolve(name));
    Path stamps = dir.resolve("stamps");
    Files.deleteIfExists(stamps);
    Path script = dir.resolve("stamp.sh");
    Files.writeString(script, "#!/bin/bash\necho \"$$ $EPOCHREALTIME\" >> '" + stamps
        + "'\nexec sleep 100000\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    List<Long> micros = new ArrayList<>();
    try (Running running = starter.start(dir)) {
      Stamp current = awaitStamp(stamps, 0, FIRST_START, name + " did not start the service");
      for (int i = 0; i < kills; i++) {
        Thread.sleep(interval.toMillis());
        long killedAt = nowMicros();
        ProcessHandle.of(current.pid()).ifPresent(ProcessHandle::destroyForcibly);
        Stamp next = awaitStamp(stamps, current.line() + 1, REPLACEMENT,
            name + " did not restart the service after kill " + (i + 1));
        micros.add(next.micros() - killedAt);
        Files.writeString(dir.resolve("kills"), killedAt + " " + next.micros() + "\n",
            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        current = next;
      }
    }
    return new Series(name, micros);
  }

  private record Stamp(int line, long pid, long micros) {}

  /** Waits for stamp line {@code line} (0-based) to appear. */
  private static Stamp awaitStamp(Path stamps, int line, Duration limit, String failure)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(stamps)) {
        List<String> lines = Files.readAllLines(stamps, StandardCharsets.UTF_8);
        if (lines.size() > line) { // one write(2) per line: never half a line
          String[] parts = lines.get(line).trim().split(" ");
          if (parts.length == 2 && parts[1].contains(".")) {
            String[] secs = parts[1].split("\\.");
            long micros = Long.parseLong(secs[0]) * 1_000_000L
                + Long.parseLong((secs[1] + "000000").substring(0, 6));
            return new Stamp(line, Long.parseLong(parts[0]), micros);
          }
        }
      }
      Thread.sleep(0, 200_000);
    }
    throw new IllegalStateException(failure + " within " + limit + " (stamps in " + stamps + ")");
  }

  private static long nowMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  // ---- the three supervisors ----

  private Running startInfraveil(Path dir, boolean processGroups) throws IOException {
    Path release = Files.createDirectories(dir.resolve("release"));
    Files.writeString(release.resolve("config.yaml"), "services:\n  stamp:\n    run:\n"
        + "      start: [ \"exec " + dir.resolve("stamp.sh") + "\" ]\n    stop_timeout: 2s\n");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(HostJvmOptions.agent());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"),
        AgentEngineHost.class.getName(), dir.resolve("agent-" + ProcessHandle.current().pid())
            .toString(), release.toString(), processGroups ? "process-groups" : "cgroups"));
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("agent.out").toFile()).start();
    return () -> stop(process);
  }

  private Running startSupervisord(Path supervisord, Path dir) throws IOException {
    Path conf = dir.resolve("supervisord.conf");
    Files.writeString(conf, String.join("\n",
        "[supervisord]",
        "nodaemon=true",
        "logfile=" + dir.resolve("supervisord.log"),
        "pidfile=" + dir.resolve("supervisord.pid"),
        "childlogdir=" + dir,
        "[program:stamp]",
        "command=" + dir.resolve("stamp.sh"),
        "autorestart=true",
        "startsecs=1",
        "stopasgroup=true",
        "killasgroup=true",
        ""));
    Process process = new ProcessBuilder(supervisord.toString(), "-c", conf.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("supervisord.out").toFile())
        .start();
    return () -> stop(process);
  }

  private Running startPm2(Path pm2, Path dir) throws Exception {
    Path home = Files.createDirectories(dir.resolve("pm2-home"));
    run(List.of(pm2.toString(), "start", dir.resolve("stamp.sh").toString(), "--name", "stamp"),
        home, dir.resolve("pm2.out"));
    return () -> run(List.of(pm2.toString(), "kill"), home, dir.resolve("pm2.out"));
  }

  private static void run(List<String> command, Path pm2Home, Path log) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().put("PM2_HOME", pm2Home.toString());
    Process process = builder.start();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(command + " did not finish within 60 s (output in " + log
          + ")");
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(command + " exited " + process.exitValue()
          + " (output in " + log + ")");
    }
  }

  /** SIGTERM (the supervisor stops its service), then SIGKILL after 20 s. */
  private static void stop(Process process) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor();
    }
  }
}
