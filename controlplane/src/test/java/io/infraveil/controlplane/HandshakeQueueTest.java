package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.infraveil.controlplane.grpc.HandshakeLimiter;
import io.infraveil.controlplane.grpc.ServerTlsContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * More hosts connecting at once than the control plane handshakes with at once: the others
 * queue and every one gets through, over real mutual TLS; an untrusted client in the queue is
 * still refused, and its turn is handed on.
 */
class HandshakeQueueTest {

  @TempDir Path dir;
  OpsHarness harness;

  @BeforeEach
  void start() throws Exception {
    harness = new OpsHarness(dir, Map.of("infraveil.grpc.max-concurrent-handshakes", 1));
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  @Test
  void connectionsBeyondTheBoundQueueAndAllGetThrough() throws Exception {
    int hosts = 24;
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < hosts; i++) {
      channels.add(harness.channel(harness.pki.host("web-" + i)));
    }
    ManagedChannel untrusted = harness.channel(TestPki.foreign("mallory"));
    ExecutorService pool = Executors.newFixedThreadPool(hosts + 1);
    try {
      List<CompletableFuture<HealthCheckResponse.ServingStatus>> answers = new ArrayList<>();
      for (ManagedChannel channel : channels) {
        answers.add(CompletableFuture.supplyAsync(() -> HealthGrpc.newBlockingStub(channel)
            .withDeadlineAfter(60, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()).getStatus(), pool));
      }
      CompletableFuture<Throwable> refused = CompletableFuture.supplyAsync(() -> {
        try {
          HealthGrpc.newBlockingStub(untrusted).withDeadlineAfter(60, TimeUnit.SECONDS)
              .check(HealthCheckRequest.getDefaultInstance());
          return null;
        } catch (RuntimeException e) {
          return e;
        }
      }, pool);

      for (var answer : answers) {
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, answer.get(90, TimeUnit.SECONDS));
      }
      assertTrue(refused.get(90, TimeUnit.SECONDS) != null, "a foreign CA's certificate is refused");
    } finally {
      pool.shutdownNow();
    }
    HandshakeLimiter.Stats stats = harness.controlPlane.bean(ServerTlsContext.class).handshakeLimiter().stats();
    assertEquals(1, stats.limit());
    assertTrue(stats.queued() > 0, "some connections waited their turn: " + stats);
    assertEquals(0, stats.waiting(), stats.toString());
    assertTrue(stats.started() >= hosts + 1, stats.toString());
  }
}
