package io.infraveil.agent.main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        new AgentDesired.Payload("c".repeat(64), 10, 1, "v1"), 1, false, "").write(data);
  }

  @AfterEach
  void killAgents() throws Exception {
    for (Process agent : agents) {
      agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
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
