package io.infraveil.agent.secrets;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import io.infraveil.payload.seal.DataKeys;
import io.infraveil.payload.secret.SecretSeal;
import io.infraveil.proto.v1.FetchSecretsRequest;
import io.infraveil.proto.v1.FetchSecretsResponse;
import io.infraveil.proto.v1.SealedSecret;
import io.infraveil.proto.v1.SecretServiceGrpc;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's side of secret delivery against a stand-in SecretService on loopback that serves
 * really sealed secrets (authorization itself is the control plane's, tested there): fetch
 * once, keep sealed on disk, fall back to that copy only when the control plane is unreachable.
 */
class SecretsFetcherTest {

  @TempDir Path dir;
  private final SecureRandom random = new SecureRandom();
  private final byte[] wrapKey = new byte[32];
  private final AtomicInteger calls = new AtomicInteger();
  private final AtomicReference<Object> answer = new AtomicReference<>();
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void tearDown() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  private void serve() throws Exception {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new SecretServiceGrpc.SecretServiceImplBase() {
          @Override
          public void fetchSecrets(FetchSecretsRequest request,
              StreamObserver<FetchSecretsResponse> responses) {
            calls.incrementAndGet();
            if (answer.get() instanceof Status status) {
              responses.onError(status.asRuntimeException());
              return;
            }
            responses.onNext((FetchSecretsResponse) answer.get());
            responses.onCompleted();
          }
        }).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  private void unreachable() throws Exception {
    int port;
    try (var socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  private FetchSecretsResponse sealed(String name, long version, String value) {
    String binding = SecretSeal.binding("web", name, version);
    SecretKey key = DataKeys.newDataKey(random);
    return FetchSecretsResponse.newBuilder().setDeployment("web").addSecrets(SealedSecret
        .newBuilder().setName(name).setVersion(version)
        .setWrappedKey(ByteString.copyFrom(SecretSeal.wrapKey(wrapKey, key, binding, random)))
        .setCiphertext(ByteString.copyFrom(SecretSeal.sealValue(key, value.getBytes(UTF_8),
            binding, random)))).build();
  }

  private SecretsFetcher fetcher() {
    return new SecretsFetcher("web", channel, wrapKey, dir.resolve("secrets.sealed"),
        Duration.ofSeconds(5));
  }

  /** Fetched once and kept; the copy on disk is sealed and private. */
  @Test
  void fetchesOnceAndKeepsASealedCopy() throws Exception {
    random.nextBytes(wrapKey);
    answer.set(sealed("db_password", 3, "pw-value"));
    serve();
    SecretsFetcher fetcher = fetcher();

    SecretsFetcher.Result first = fetcher.current();
    assertEquals(SecretsFetcher.Source.FETCHED, first.source(), first.problem());
    SecretBundle.Value value = first.bundle().orElseThrow().get("db_password").orElseThrow();
    assertEquals(3, value.version());
    assertArrayEquals("pw-value".getBytes(UTF_8), value.bytes());
    assertEquals(first, fetcher.current());
    assertEquals(1, calls.get(), "kept for the life of the agent");
    Path cache = dir.resolve("secrets.sealed");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)));
    assertFalse(new String(Files.readAllBytes(cache), java.nio.charset.StandardCharsets.ISO_8859_1)
        .contains("pw-value"));
    assertFalse(first.toString().contains("pw-value"), first.toString());
  }

  /** With the control plane unreachable, the sealed copy of the last fetch is used. */
  @Test
  void unreachableControlPlaneFallsBackToTheSealedCopy() throws Exception {
    random.nextBytes(wrapKey);
    answer.set(sealed("db_password", 1, "pw-value"));
    serve();
    assertEquals(SecretsFetcher.Source.FETCHED, fetcher().current().source());
    channel.shutdownNow();
    server.shutdownNow();
    unreachable();

    SecretsFetcher.Result cached = fetcher().current();
    assertEquals(SecretsFetcher.Source.CACHED, cached.source(), cached.problem());
    assertArrayEquals("pw-value".getBytes(UTF_8),
        cached.bundle().orElseThrow().get("db_password").orElseThrow().bytes());
  }

  /** Unreachable with nothing kept: unavailable, and tried again on the next call. */
  @Test
  void unreachableWithoutACopyIsUnavailableAndRetried() throws Exception {
    unreachable();
    SecretsFetcher fetcher = fetcher();
    SecretsFetcher.Result result = fetcher.current();
    assertEquals(SecretsFetcher.Source.UNAVAILABLE, result.source());
    assertTrue(result.problem().startsWith("the control plane is unreachable for secrets (UNAVAILABLE"),
        result.problem());
    assertTrue(result.problem().endsWith("and none are kept in " + dir.resolve("secrets.sealed")),
        result.problem());
    assertEquals(SecretsFetcher.Source.UNAVAILABLE, fetcher.current().source());
  }

  /** A refusal is final: the sealed copy is not used to get around it. */
  @Test
  void refusalIsNotBypassedWithTheCopy() throws Exception {
    random.nextBytes(wrapKey);
    answer.set(sealed("db_password", 1, "pw-value"));
    serve();
    assertEquals(SecretsFetcher.Source.FETCHED, fetcher().current().source());
    answer.set(Status.PERMISSION_DENIED.withDescription("host web-2 may not fetch the secrets of"
        + " deployment web: the deployment is not placed on web-2"));

    SecretsFetcher.Result denied = fetcher().current();
    assertEquals(SecretsFetcher.Source.DENIED, denied.source());
    assertEquals("the control plane refused the secrets of deployment web: host web-2 may not"
        + " fetch the secrets of deployment web: the deployment is not placed on web-2",
        denied.problem());
    assertTrue(denied.bundle().isEmpty());
  }

  /** Secrets sealed for another host's key are rejected and never kept. */
  @Test
  void secretsForAnotherKeyAreRejectedAndNotKept() throws Exception {
    random.nextBytes(wrapKey);
    answer.set(sealed("db_password", 1, "pw-value"));
    random.nextBytes(wrapKey); // the agent's key is now another one
    serve();

    SecretsFetcher.Result result = fetcher().current();
    assertEquals(SecretsFetcher.Source.REJECTED, result.source());
    assertTrue(result.problem().contains("do not open with this host's key"), result.problem());
    assertFalse(Files.exists(dir.resolve("secrets.sealed")));
  }
}
