package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real processes on real ports: dynamic ports reach every command of an instance, stay across
 * healing and agent restarts, and a host's labels pick its overrides.
 */
class SupervisorPortsTest {

  private static final String SHA = "b".repeat(64);

  @TempDir Path tmp;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private final List<Supervisor> supervisors = new ArrayList<>();
  private final AgentSettings settings = AgentSettings.defaults()
      .withStartWatch(Duration.ofMillis(300))
      .withHealing(8, Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofMinutes(10))
      .withTick(Duration.ofMillis(50));

  /**
   * Each instance records its environment, then listens on its http port (a shell loop that
   * answers with nc would need nc; python3 is on every build machine here).
   */
  private static final String SERVER = """
      services:
        api:
          clusters: 2
          ports: [ http, admin ]
          run:
            start: [ "env | grep ^INFRAVEIL_ > env-$INFRAVEIL_CLUSTER_INDEX.txt; exec python3 -m http.server ${INFRAVEIL_PORT_HTTP} --bind 127.0.0.1" ]
          healthcheck:
            cmd: "python3 -c \\"import socket; socket.create_connection(('127.0.0.1', ${INFRAVEIL_PORT_HTTP}), 1)\\""
            interval: 300ms
            timeout: 2s
            start_period: 20s
          stop_timeout: 2s
      """;

  @AfterEach
  void tearDown() {
    supervisors.forEach(s -> {
      s.stop();
      s.close();
    });
    scheduler.shutdownNow();
  }

  private Path release(String yaml) throws IOException {
    Path dir = tmp.resolve("release");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.yaml"), yaml);
    return dir;
  }

  private Supervisor supervisor(Path release, Map<String, String> labels) throws IOException {
    Path agentDir = tmp.resolve("agent");
    Supervisor s = new Supervisor(agentDir, sha -> release, settings, Clock.systemUTC(),
        scheduler, new FileAgentStateStore(agentDir), Containment.standalone(agentDir),
        ServiceSecrets.NONE, new InstanceContext("host-a", "web", labels), FreePorts.SYSTEM);
    supervisors.add(s);
    return s;
  }

  private static AgentSnapshot.ServiceSnapshot await(Supervisor s,
      Predicate<AgentSnapshot.ServiceSnapshot> condition, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
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

  private static boolean healthy(AgentSnapshot.ServiceSnapshot s) {
    return s.state() == ServiceState.RUNNING && s.health() == Health.HEALTHY;
  }

  private static int port(AgentSnapshot.ServiceSnapshot s, String name, int index) {
    return s.ports().stream().filter(p -> p.name().equals(name) && p.clusterIndex() == index)
        .findFirst().orElseThrow(() -> new AssertionError("no port " + name + "/" + index
            + " in " + s.ports())).port();
  }

  private static Properties env(Path release, int index) throws IOException {
    Properties env = new Properties();
    try (var in = Files.newBufferedReader(release.resolve("env-" + index + ".txt"))) {
      env.load(in);
    }
    return env;
  }

  private static boolean answers(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  // Each instance gets its own http and admin port, sees them (and the host and deployment) in
  // its environment, listens on it, and the check reaches it through ${INFRAVEIL_PORT_HTTP}.
  @Test
  void everyInstanceGetsItsOwnPortsInItsEnvironment() throws Exception {
    Path release = release(SERVER);
    Supervisor s = supervisor(release, Map.of());
    s.start(SHA);
    AgentSnapshot.ServiceSnapshot up = await(s, SupervisorPortsTest::healthy, "healthy");
    assertEquals(4, up.ports().size(), up.ports().toString());
    assertEquals(4, up.ports().stream().map(AgentSnapshot.PortSnapshot::port).distinct().count());
    for (int index = 0; index < 2; index++) {
      Properties env = env(release, index);
      assertEquals(Integer.toString(port(up, "http", index)), env.getProperty("INFRAVEIL_PORT_HTTP"));
      assertEquals(Integer.toString(port(up, "admin", index)),
          env.getProperty("INFRAVEIL_PORT_ADMIN"));
      assertEquals("host-a", env.getProperty("INFRAVEIL_HOST"));
      assertEquals("web", env.getProperty("INFRAVEIL_DEPLOYMENT"));
      assertEquals(Integer.toString(index), env.getProperty("INFRAVEIL_CLUSTER_INDEX"));
      assertTrue(answers(port(up, "http", index)), "instance " + index + " answers");
    }
  }

  // A crashed instance is healed onto the port it had; a new agent over the same state gives
  // every instance its port back; a port someone else took meanwhile is replaced.
  @Test
  void portsStayAcrossHealingAndAgentRestartsWhileFree() throws Exception {
    Path release = release(SERVER);
    Supervisor first = supervisor(release, Map.of());
    first.start(SHA);
    AgentSnapshot.ServiceSnapshot up = await(first, SupervisorPortsTest::healthy, "healthy");
    int http0 = port(up, "http", 0);
    int http1 = port(up, "http", 1);
    long pid = up.processes().get(0).pid();
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    AgentSnapshot.ServiceSnapshot healed = await(first,
        x -> healthy(x) && x.restartsTotal() == 1 && x.processes().stream()
            .noneMatch(p -> p.pid() == pid), "healed");
    assertEquals(http0, port(healed, "http", 0));
    assertEquals(http1, port(healed, "http", 1));
    assertTrue(answers(http0));

    first.stop();
    first.close();
    supervisors.remove(first);
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress(http1));
      Supervisor second = supervisor(release, Map.of());
      second.start(SHA);
      AgentSnapshot.ServiceSnapshot again = await(second, SupervisorPortsTest::healthy,
          "healthy again");
      assertEquals(http0, port(again, "http", 0));
      assertNotEquals(http1, port(again, "http", 1));
      assertEquals(Integer.toString(port(again, "http", 1)),
          env(release, 1).getProperty("INFRAVEIL_PORT_HTTP"));
    }
  }

  // On a host labelled provider=aws the override's env and start command run; elsewhere the
  // base's.
  @Test
  void hostLabelsPickTheOverride() throws Exception {
    String yaml = """
        services:
          api:
            run:
              start: [ "echo base $REGION > which.txt; exec sleep 1000" ]
            env: { REGION: local }
            stop_timeout: 1s
        overrides:
          provider=aws:
            services:
              api:
                env: { REGION: eu-west-1 }
                run: { start: [ "echo aws $REGION > which.txt; exec sleep 1000" ] }
        """;
    Path release = release(yaml);
    Supervisor aws = supervisor(release, Map.of("provider", "aws", "zone", "a"));
    aws.start(SHA);
    await(aws, SupervisorPortsTest::healthy, "running");
    assertEquals("aws eu-west-1", Files.readString(release.resolve("which.txt")).trim());
    aws.stop();
    aws.close();
    supervisors.remove(aws);

    Supervisor gcp = supervisor(release, Map.of("provider", "gcp"));
    gcp.start(SHA);
    await(gcp, SupervisorPortsTest::healthy, "running");
    assertEquals("base local", Files.readString(release.resolve("which.txt")).trim());
  }
}
