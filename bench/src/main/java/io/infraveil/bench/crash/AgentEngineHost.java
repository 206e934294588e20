package io.infraveil.bench.crash;

import io.infraveil.agent.AgentSettings;
import io.infraveil.agent.Containment;
import io.infraveil.agent.FileAgentStateStore;
import io.infraveil.agent.StartResult;
import io.infraveil.agent.Supervisor;
import io.infraveil.host.process.cgroup.CgroupLayout;
import io.infraveil.host.process.cgroup.Cgroups;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The agent's supervision engine ({@link Supervisor}, its file state store and its cgroup
 * containment, as the agent builds them) in a JVM of its own, running the release in
 * {@code args[1]} from agent dir {@code args[0]}; the crash-restart benchmark starts it with
 * the agents' JVM options. SIGTERM stops the services and exits. With {@code process-groups}
 * as {@code args[2]} it contains services as on a host without writable cgroups.
 *
 * <p>A run of one second counts as stable (quick-crash window, healing stable period and start
 * watch of 1 s), as supervisord's {@code startsecs=1} and pm2's {@code min_uptime} do, so a
 * service killed every few seconds is restarted at once every time under all three.
 */
public final class AgentEngineHost {

  private AgentEngineHost() {}

  public static void main(String[] args) throws Exception {
    Path agentDir = Path.of(args[0]).toAbsolutePath();
    Path release = Path.of(args[1]).toAbsolutePath();
    Files.createDirectories(agentDir);
    Duration second = Duration.ofSeconds(1);
    AgentSettings settings = AgentSettings.defaults()
        .withStartWatch(second)
        .withHealing(8, Duration.ofMillis(100), Duration.ofSeconds(10), second)
        .withQuickCrash(second);
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-agent-scheduler");
      t.setDaemon(true);
      return t;
    });
    // "process-groups": as on a host without writable cgroups (a layout detected nowhere).
    boolean processGroups = args.length > 2 && args[2].equals("process-groups");
    Cgroups cgroups = processGroups
        ? new Cgroups(CgroupLayout.detect(agentDir.resolve("no-cgroups")), agentDir)
        : Cgroups.system(agentDir);
    Supervisor supervisor = new Supervisor(agentDir, sha -> release, settings, Clock.systemUTC(),
        scheduler, new FileAgentStateStore(agentDir),
        new Containment(cgroups, agentDir.getFileName().toString()));
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      supervisor.stop();
      supervisor.close();
    }, "bench-agent-stop"));
    StartResult result = supervisor.start("bench");
    System.out.println("agent engine " + result.outcome() + " " + supervisor.snapshot()
        .containment());
    Thread.currentThread().join();
  }
}
