package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.infraveil.controlplane.history.HistoryRow;
import io.infraveil.controlplane.history.HistoryStore;
import io.infraveil.controlplane.history.HistoryWriter;
import io.infraveil.controlplane.ops.Evidence;
import io.infraveil.controlplane.trace.RequestTraceInterceptor;
import io.infraveil.controlplane.trace.RequestTraces;
import io.infraveil.proto.v1.EvidenceSource;
import io.infraveil.proto.v1.ListHostsRequest;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Request traces and the batched history of a real control plane with its real H2 store. */
class OperationsRecordsTest {

  @TempDir Path dir;
  OpsHarness ops;

  @BeforeEach
  void start() throws Exception {
    ops = new OpsHarness(dir, Map.of("infraveil.retention", "7d", "infraveil.history-flush-interval", "1h"));
  }

  @AfterEach
  void stop() throws Exception {
    ops.close();
  }

  @Test
  void callerTraceIdIsEchoedInResponseHeadersAndTheCallIsRecordedWithIdentity() throws Exception {
    AtomicReference<String> echoed = new AtomicReference<>();
    Channel traced = ClientInterceptors.intercept(ops.channel(ops.pki.operator("alice")), new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            headers.put(RequestTraceInterceptor.TRACE_ID_HEADER, "trace-from-test-1");
            super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onHeaders(Metadata responseHeaders) {
                echoed.set(responseHeaders.get(RequestTraceInterceptor.TRACE_ID_HEADER));
                super.onHeaders(responseHeaders);
              }
            }, headers);
          }
        };
      }
    });
    OperatorServiceGrpc.newBlockingStub(traced).listHosts(ListHostsRequest.getDefaultInstance());

    assertEquals("trace-from-test-1", echoed.get());
    RequestTraces.Trace trace = ops.controlPlane.bean(RequestTraces.class).recent().stream()
        .filter(t -> t.traceId().equals("trace-from-test-1")).findFirst().orElseThrow();
    assertEquals("spiffe://test.infraveil/operator/alice", trace.identity());
    assertEquals("infraveil.v1.OperatorService/ListHosts", trace.method());
    assertEquals("OK", trace.status());
    assertTrue(!trace.latency().isNegative());
  }

  @Test
  void historyIsWrittenInBatchesAndPrunedAfterTheRetention() throws Exception {
    HistoryWriter writer = ops.controlPlane.bean(HistoryWriter.class);
    HistoryStore store = ops.controlPlane.bean(HistoryStore.class);
    writer.flush();
    long before = store.count();
    Instant old = Instant.now().minus(Duration.ofDays(8));
    for (int i = 0; i < 2_500; i++) {
      writer.enqueue(new HistoryRow.EvidenceRow(new Evidence(i < 500 ? old : Instant.now(),
          EvidenceSource.EVIDENCE_SOURCE_CONSOLE, "web-1", "shop", "api", "", "line " + i)));
    }
    writer.flush();
    assertEquals(0, writer.queued());
    assertEquals(before + 2_500, store.count());

    writer.prune(); // the periodic prune waits a full period, so this is the first one
    assertEquals(before + 2_000, store.count(), "the 500 rows older than 7 days are pruned, the rest kept");
    assertEquals(0, writer.dropped());
  }
}
