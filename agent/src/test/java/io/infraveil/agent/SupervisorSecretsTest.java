package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.infraveil.appconfig.AppConfig;
import io.infraveil.appconfig.ServiceSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The supervisor with a secrets source: real processes see the values; a refusal starts nothing. */
class SupervisorSecretsTest {

  private static final String SHA = "c".repeat(64);

  @TempDir Path tmp;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private Supervisor supervisor;

  private final AgentSettings settings = AgentSettings.defaults()
      .withStartWatch(Duration.ofMillis(300))
      .withTick(Duration.ofMillis(50));

  @AfterEach
  void tearDown() {
    if (supervisor != null) {
      supervisor.stop();
      supervisor.close();
    }
    scheduler.shutdownNow();
  }

  private Path release() throws Exception {
    Path dir = tmp.resolve("release");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "printf %s \\"$DB_PASSWORD\\" > seen.env; cat \\"$INFRAVEIL_SECRETS_DIR/tls.key\\" > seen.file; exec sleep 1000" ]
            secrets:
              - { name: db_password, env: DB_PASSWORD }
              - { name: tls_key, file: tls.key }
            stop_timeout: 1s
        """);
    return dir;
  }

  private Supervisor supervisor(Path release, ServiceSecrets secrets) throws Exception {
    supervisor = new Supervisor(tmp.resolve("agent"), sha -> release, settings, Clock.systemUTC(),
        scheduler, new FileAgentStateStore(tmp.resolve("agent")),
        Containment.standalone(tmp.resolve("agent")), secrets);
    return supervisor;
  }

  /** The environment variable and the file reach the service's process. */
  @Test
  void serviceSeesItsSecrets() throws Exception {
    Path release = release();
    Path files = tmp.resolve("agent/secrets/api");
    ServiceSecrets secrets = config -> {
      ServiceSpec api = config.services().get("api");
      try {
        Files.createDirectories(files);
        Files.writeString(files.resolve("tls.key"), "KEY-1");
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
      return ServiceSecrets.Prepared.ready(new AppConfig(Map.of("api", api.withEnv(Map.of(
          "DB_PASSWORD", "pw-1", "INFRAVEIL_SECRETS_DIR", files.toString())))));
    };
    assertEquals(StartResult.Outcome.STARTED, supervisor(release, secrets).start(SHA).outcome());
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!Files.exists(release.resolve("seen.file")) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    Thread.sleep(100);
    assertEquals("pw-1", Files.readString(release.resolve("seen.env")));
    assertEquals("KEY-1", Files.readString(release.resolve("seen.file")));
  }

  /** A refused secret rejects the version before anything starts, with a DEPLOY_FAILED event. */
  @Test
  void refusedSecretsStartNothingAndSaySo() throws Exception {
    Path release = release();
    String problem = "secret tls_key of deployment web is named in config.yaml but not set";
    Supervisor s = supervisor(release, config -> ServiceSecrets.Prepared.refused(problem));

    StartResult result = s.start(SHA);
    assertEquals(StartResult.Outcome.REJECTED, result.outcome());
    assertEquals(problem, result.message());
    List<AgentEvent> events = s.drainEvents();
    assertEquals(1, events.size(), events.toString());
    AgentEvent event = events.get(0);
    assertEquals(AgentEvent.Kind.DEPLOY_FAILED, event.kind());
    assertEquals("SECRET_UNAVAILABLE", event.reason());
    assertEquals(problem, event.message());
    assertEquals(SHA, event.sha256());
    assertEquals(Optional.empty(), s.snapshot().sha256(), "no version runs");
    Thread.sleep(400);
    assertFalse(Files.exists(release.resolve("seen.env")), "the start command never ran");
  }

  /** Without a secrets source, a release that names secrets is refused, naming the service. */
  @Test
  void noSourceRefusesReleasesThatNameSecrets() throws Exception {
    Path release = release();
    Supervisor s = supervisor(release, ServiceSecrets.NONE);
    StartResult result = s.start(SHA);
    assertEquals(StartResult.Outcome.REJECTED, result.outcome());
    assertEquals("service api names secrets in config.yaml, but this agent has no host identity"
        + " to fetch them with", result.message());
    assertEquals(Optional.empty(), s.snapshot().sha256(), "no version runs");
  }
}
