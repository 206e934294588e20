package io.infraveil.agent.main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The agent's channel while it is being built, against a real gRPC server on loopback. */
class DeferredChannelTest {

  private static final MethodDescriptor.Marshaller<String> TEXT =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
          return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
          try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };
  private static final MethodDescriptor<String, String> SAY =
      MethodDescriptor.<String, String>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("test.Echo/Say").setRequestMarshaller(TEXT)
          .setResponseMarshaller(TEXT).build();

  private Server server;
  private ManagedChannel real;

  @BeforeEach
  void startServer() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerServiceDefinition.builder("test.Echo")
            .addMethod(SAY, ServerCalls.asyncUnaryCall((request, answer) -> {
              answer.onNext("echo " + request);
              answer.onCompleted();
            })).build())
        .build().start();
    real = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    real.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void aCallMadeBeforeTheChannelIsBuiltGoesThroughOnceItIs() throws Exception {
    CompletableFuture<ManagedChannel> built = new CompletableFuture<>();
    DeferredChannel channel = DeferredChannel.of(built);
    CompletableFuture<String> answer = CompletableFuture.supplyAsync(
        () -> ClientCalls.blockingUnaryCall(channel, SAY, CallOptions.DEFAULT, "hi"));
    assertFalse(channel.isShutdown());

    built.complete(real);

    assertEquals("echo hi", answer.get(10, TimeUnit.SECONDS));
    assertEquals(real.authority(), channel.authority());
  }

  @Test
  void aLazyChannelIsBuiltByItsFirstCallOrWhenAsked() throws Exception {
    java.util.concurrent.atomic.AtomicInteger builds =
        new java.util.concurrent.atomic.AtomicInteger();
    DeferredChannel channel = DeferredChannel.lazy(() -> {
      builds.incrementAndGet();
      return real;
    }, "test-channel");
    assertEquals(0, builds.get(), "nothing built before it is needed");

    assertEquals("echo hi", ClientCalls.blockingUnaryCall(channel, SAY, CallOptions.DEFAULT,
        "hi"));
    channel.buildNow();
    assertEquals(1, builds.get());

    DeferredChannel asked = DeferredChannel.lazy(() -> {
      builds.incrementAndGet();
      return real;
    }, "test-channel");
    asked.buildNow();
    ((java.util.concurrent.CompletableFuture<?>) asked.built()).get(10, TimeUnit.SECONDS);
    assertEquals(2, builds.get());
  }

  @Test
  void aLazyChannelShutDownBeforeItsBuildIsNeverBuilt() throws Exception {
    java.util.concurrent.atomic.AtomicInteger builds =
        new java.util.concurrent.atomic.AtomicInteger();
    DeferredChannel channel = DeferredChannel.lazy(() -> {
      builds.incrementAndGet();
      return real;
    }, "test-channel");

    channel.shutdownNow();

    assertTrue(channel.isTerminated());
    assertTrue(channel.awaitTermination(1, TimeUnit.SECONDS));
    assertEquals(Status.Code.UNAVAILABLE, assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(channel, SAY, CallOptions.DEFAULT, "hi"))
        .getStatus().getCode());
    assertEquals(0, builds.get());
  }

  @Test
  void aChannelThatCannotBeBuiltFailsEachCallNamingWhy() {
    DeferredChannel channel = DeferredChannel.building(() -> {
      throw new IllegalStateException("host.key is not a PKCS#8 private key");
    }, "test-channel");

    StatusRuntimeException failed = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(channel, SAY, CallOptions.DEFAULT, "hi"));

    assertEquals(Status.Code.UNAVAILABLE, failed.getStatus().getCode());
    assertTrue(failed.getStatus().getDescription().contains(
        "host.key is not a PKCS#8 private key"), failed.getStatus().getDescription());
    channel.shutdownNow();
    assertTrue(channel.isTerminated());
  }

  @Test
  void aShutdownAskedBeforeTheChannelIsBuiltReachesItOnceBuilt() throws Exception {
    CompletableFuture<ManagedChannel> built = new CompletableFuture<>();
    DeferredChannel channel = DeferredChannel.of(built);

    channel.shutdownNow();
    assertTrue(channel.isShutdown());
    built.complete(real);

    assertTrue(real.isShutdown());
    assertTrue(channel.awaitTermination(10, TimeUnit.SECONDS));
  }
}
