package io.infraveil.agent.main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import io.infraveil.host.grpc.HostIdentityFiles;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real agent processes (this module's classpath, {@link AgentMain}) over one enrolled data dir
 * whose control plane is absent: one supervisor per deployment, held by an OS lock.
 */
class AgentMainTest {

  @TempDir Path data;
  @TempDir Path out;
  private final List<Process> agents = new ArrayList<>();
  private final List<Long> services = new ArrayList<>();

  @BeforeEach
  void enrolledHostWithADeployment() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    KeyPair keys = KeyPairs.ecP256();
    HostIdentityFiles identity = HostIdentityFiles.inDataDir(data);
    identity.writeKey(keys.getPrivate());
    identity.writeCertificates(Pem.encode(ca.issue(keys.getPublic(),
        Identity.host("test.infraveil", "web-1"), Duration.ofHours(1), List.of())),
        Pem.encode(ca.certificate()));
    identity.writeSecret(new byte[HostIdentityFiles.HOST_SECRET_BYTES]);
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    identity.writeHostInfo(new HostIdentityFiles.HostInfo("web-1", "127.0.0.1:" + closedPort,
        "test.infraveil"));
    new AgentDesired(AgentDesired.FORMAT_VERSION, "web",
        new AgentDesired.Payload("c".repeat(64), 10, 1, "v1"), 1, false, "", false).write(data);
  }

  @AfterEach
  void killAgents() throws Exception {
    for (Process agent : agents) {
      agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    for (long pid : services) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  private Process agent(String name) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process agent = new ProcessBuilder(java.toString(), "-cp",
        System.getProperty("java.class.path"), AgentMain.class.getName(),
        "--data-dir", data.toString(), "--deployment", "web")
        .redirectOutput(out.resolve(name + ".out").toFile())
        .redirectError(out.resolve(name + ".err").toFile())
        .start();
    agents.add(agent);
    return agent;
  }

  private Path lockFile() {
    return data.resolve("agents/web/agent.lock");
  }

  /** Waits until the lock file names {@code agent}, as the launcher would read it. */
  private String awaitHolder(Process agent) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String line = "";
    while (System.nanoTime() < deadline && agent.isAlive()) {
      line = Files.exists(lockFile()) ? Files.readString(lockFile()).trim() : "";
      if (line.startsWith("pid=" + agent.pid() + " ")) {
        return line;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("agent " + agent.pid() + " never wrote the lock (alive: "
        + agent.isAlive() + ", lock: '" + line + "')");
  }

  // SIGTERM to an agent (delete, new version, host shutdown) stops its three services at once:
  // each ignores SIGTERM for its whole 3 s stop_timeout and is SIGKILLed, and the agent is gone
  // in about one stop_timeout, not the 9 s of one service after another.
  @Test
  void sigtermStopsEveryServiceWithinOneStopTimeout() throws Exception {
    // The desired release is already extracted, so the agent runs it with no control plane.
    Path release = data.resolve("agents/web/releases/" + "c".repeat(64));
    Files.createDirectories(release);
    StringBuilder config = new StringBuilder("services:\n");
    for (String name : List.of("a", "b", "c")) {
      config.append("""
            %s:
              run:
                start: [ "trap 'date +%%s%%N >> term-%s.log' TERM; while :; do sleep 0.05; done" ]
              stop_timeout: 3s
          """.formatted(name, name));
    }
    Files.writeString(release.resolve("config.yaml"), config.toString());
    Process agent = agent("agent");
    Path state = data.resolve("agents/web/agent_state.json");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (services.size() < 3 && System.nanoTime() < deadline && agent.isAlive()) {
      Thread.sleep(50);
      if (!Files.exists(state)) {
        continue;
      }
      List<Long> pids = new ArrayList<>();
      JsonNode saved = new ObjectMapper().readTree(state.toFile()).path("services");
      for (String name : List.of("a", "b", "c")) {
        JsonNode processes = saved.path(name).path("processes");
        if (saved.path(name).path("state").asText().equals("RUNNING") && processes.size() == 1) {
          pids.add(processes.get(0).path("pid").asLong());
        }
      }
      if (pids.size() == 3) {
        services.addAll(pids);
      }
    }
    assertEquals(3, services.size(), "three services running; agent log: "
        + Files.readString(out.resolve("agent.err")));

    long began = System.nanoTime();
    agent.destroy(); // SIGTERM
    assertTrue(agent.waitFor(30, TimeUnit.SECONDS), "the agent exits after stopping");
    Duration took = Duration.ofNanos(System.nanoTime() - began);

    List<Long> termAt = new ArrayList<>();
    for (String name : List.of("a", "b", "c")) {
      List<String> lines = Files.readAllLines(release.resolve("term-" + name + ".log"));
      assertEquals(1, lines.size(), name + " got SIGTERM once: " + lines);
      termAt.add(Long.parseLong(lines.get(0)));
    }
    long spread = termAt.stream().mapToLong(Long::longValue).max().orElseThrow()
        - termAt.stream().mapToLong(Long::longValue).min().orElseThrow();
    assertTrue(spread < Duration.ofSeconds(3).toNanos(), "all got SIGTERM within one"
        + " stop_timeout; spread " + Duration.ofNanos(spread));
    for (long pid : services) {
      assertTrue(ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), pid + " left running");
    }
    assertTrue(took.compareTo(Duration.ofSeconds(3)) >= 0, "each ignored SIGTERM: " + took);
    assertTrue(took.compareTo(Duration.ofSeconds(7)) < 0, "about one stop_timeout: " + took);
  }

  // A second agent for the same deployment exits 3 naming the deployment and the holder's pid,
  // and leaves the lock as it was; once the first is killed -9 the kernel has freed the lock
  // and a new agent takes it.
  @Test
  void secondAgentForTheDeploymentRefusesToStart() throws Exception {
    Process first = agent("first");
    String holder = awaitHolder(first);
    String startTime = AgentLock.startTimeTicks(
        Files.readString(Path.of("/proc/" + first.pid() + "/stat")));
    assertEquals("pid=" + first.pid() + " starttime=" + startTime, holder);

    Process second = agent("second");
    assertTrue(second.waitFor(30, TimeUnit.SECONDS), "the second agent exits on its own");
    assertEquals(3, second.exitValue());
    assertEquals("agent for deployment 'web' refuses to start: another agent already"
        + " supervises it (pid " + first.pid() + ", lock " + lockFile().toAbsolutePath()
        + "); stop that agent first", Files.readString(out.resolve("second.err")).trim());
    assertEquals(holder + "\n", Files.readString(lockFile()));
    assertTrue(first.isAlive(), "the first agent is undisturbed");

    first.destroyForcibly();
    assertTrue(first.waitFor(10, TimeUnit.SECONDS));
    Process third = agent("third");
    String next = awaitHolder(third);
    assertTrue(next.startsWith("pid=" + third.pid() + " starttime="), next);
    assertTrue(third.isAlive());
  }
}
