package io.infraveil.agent.main;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.infraveil.agent.AgentSettings;
import io.infraveil.host.payload.CacheResult;
import io.infraveil.host.payload.PayloadOrigin;
import io.infraveil.payload.seal.DataKeys;
import io.infraveil.payload.secret.SecretSeal;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.proto.v1.FetchSecretsRequest;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.FetchSecretsResponse;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.SealedSecret;
import io.infraveil.proto.v1.SecretServiceGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole agent in-process with a release that names a secret, fetched from a stand-in
 * SecretService on loopback that serves really sealed secrets and can play unreachable.
 */
class AgentSecretsTest {

  private static final String SHA = "d".repeat(64);

  @TempDir Path data;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private final SecureRandom random = new SecureRandom();
  private final byte[] hostSecret = HostKeys.newSecret(random);
  private final AtomicReference<Object> answer = new AtomicReference<>();
  private final List<Agent> agents = new ArrayList<>();
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void tearDown() throws InterruptedException {
    agents.forEach(Agent::shutdown);
    scheduler.shutdownNow();
    // A retry already running may still write under the data dir: wait for it before the
    // temp dir is deleted.
    scheduler.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  /** Extracts a release whose service writes the secret's value where the test reads it. */
  private final PayloadStore store = new PayloadStore() {
    @Override
    public CacheResult ensureCached(PayloadRef desired, PayloadOrigin origin) {
      return CacheResult.cached(data);
    }

    @Override
    public Path extract(PayloadRef payload, Path releasesDir) throws IOException {
      Path dir = releasesDir.resolve(payload.getSha256());
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("config.yaml"), """
          services:
            api:
              run:
                start: [ "printf %s \\"$DB_PASSWORD\\" > seen.txt; exec sleep 1000" ]
              secrets:
                - { name: db_password, env: DB_PASSWORD }
                - { name: db_password, file: db.pass }
              stop_timeout: 1s
          """);
      return dir;
    }
  };

  private Agent agent() throws Exception {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new SecretServiceGrpc.SecretServiceImplBase() {
          @Override
          public void fetchSecrets(FetchSecretsRequest request,
              StreamObserver<FetchSecretsResponse> responses) {
            if (answer.get() instanceof Status status) {
              responses.onError(status.asRuntimeException());
            } else {
              responses.onNext((FetchSecretsResponse) answer.get());
              responses.onCompleted();
            }
          }
        }).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    new AgentDesired(1, "web", new AgentDesired.Payload(SHA, 10, 1, "v"), 1, false, "", false)
        .write(data);
    Agent.Settings settings = Agent.Settings.defaults().withEngine(AgentSettings.defaults()
            .withStartWatch(Duration.ofMillis(200)).withTick(Duration.ofMillis(50)))
        .withReporting(Duration.ofSeconds(10), Duration.ofMillis(200), Duration.ofSeconds(1),
            Duration.ofMillis(50), Duration.ofMillis(200));
    Agent agent = new Agent(data, "web", "web-1", settings, channel, store, hostSecret,
        Clock.systemUTC(), scheduler);
    agents.add(agent);
    return agent;
  }

  private FetchSecretsResponse sealed(String value) {
    String binding = SecretSeal.binding("web", "db_password", 1);
    SecretKey key = DataKeys.newDataKey(random);
    return FetchSecretsResponse.newBuilder().setDeployment("web").addSecrets(SealedSecret
        .newBuilder().setName("db_password").setVersion(1)
        .setWrappedKey(ByteString.copyFrom(SecretSeal.wrapKey(
            HostKeys.fromSecret(hostSecret).wrapKey(), key, binding, random)))
        .setCiphertext(ByteString.copyFrom(SecretSeal.sealValue(key, value.getBytes(UTF_8),
            binding, random)))).build();
  }

  private Path seen() {
    return data.resolve("agents/web/releases").resolve(SHA).resolve("seen.txt");
  }

  private void awaitSeen(String value) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(seen()) && Files.readString(seen()).equals(value)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the service never saw the secret; seen.txt: "
        + (Files.exists(seen()) ? Files.readString(seen()) : "(none)"));
  }

  /**
   * The value fetched for this host reaches the service; the sealed copy is kept; stopping the
   * deployment removes the secret files.
   */
  @Test
  void secretReachesTheServiceAndItsFilesGoWithTheDeployment() throws Exception {
    answer.set(sealed("pw-1"));
    Agent agent = agent();
    agent.start();
    awaitSeen("pw-1");
    assertTrue(Files.exists(data.resolve("agents/web").resolve(Agent.SECRETS_CACHE)));
    Path file = data.resolve("agents/web/secrets/api/db.pass");
    assertEquals("pw-1", Files.readString(file));

    agents.remove(agent);
    agent.shutdown(); // SIGTERM from the launcher: the deployment stops here
    assertFalse(Files.exists(data.resolve("agents/web/secrets")), "secret files removed");
  }

  /**
   * With the control plane unreachable and nothing kept, nothing starts (and the agent says
   * why); once secrets can be fetched again the service starts without an agent restart.
   */
  @Test
  void unreachableSecretsAreRetriedUntilTheServiceStarts() throws Exception {
    answer.set(Status.UNAVAILABLE.withDescription("control plane restarting"));
    Agent agent = agent();
    agent.start();
    assertFalse(Files.exists(seen()), "nothing runs without its secrets");
    // Events wait in the heartbeat's queue for the control plane, which is away here.
    HostEvent refused = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (refused == null && System.nanoTime() < deadline) {
      refused = agent.unackedEvents().stream()
          .filter(e -> e.getKind() == EventKind.EVENT_KIND_DEPLOY_FAILED).findFirst()
          .orElse(null);
      Thread.sleep(20);
    }
    assertTrue(refused != null, "DEPLOY_FAILED kept for the control plane");
    assertEquals("SECRET_UNAVAILABLE", refused.getReason());
    assertTrue(refused.getMessage().contains("the control plane is unreachable for secrets"
        + " (UNAVAILABLE: control plane restarting)"), refused.getMessage());

    answer.set(sealed("pw-2"));
    awaitSeen("pw-2");
    assertEquals(StartPlan.Reason.DESIRED, agent.plan().orElseThrow().reason());
  }
}
