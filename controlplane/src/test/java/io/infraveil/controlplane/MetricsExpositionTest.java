package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Context;
import io.infraveil.proto.v1.ListHostsRequest;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.WatchRequest;
import io.infraveil.proto.v1.WatchResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control plane's Prometheus exposition follows the conventions a central Prometheus
 * expects: counters end in _total, call latency is a histogram with buckets that leaves
 * long-lived streams out, and build, JVM and process metrics are there.
 */
class MetricsExpositionTest {

  @TempDir Path dir;
  OpsHarness ops;

  @BeforeEach
  void start() throws Exception {
    ops = new OpsHarness(dir, Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    ops.close();
  }

  @Test
  void countersEndInTotalLatencyIsAHistogramWithoutStreamsAndBuildAndJvmMetricsAreThere() throws Exception {
    ops.operator().listHosts(ListHostsRequest.getDefaultInstance());
    // A Watch opened and cancelled: a stream that ends, whose duration is no latency.
    Context.CancellableContext watching = Context.current().withCancellation();
    CompletableFuture<Void> ended = new CompletableFuture<>();
    watching.run(() -> {
      try {
        OperatorServiceGrpc.newStub(ops.channel(ops.pki.operator("alice"))).watch(WatchRequest.getDefaultInstance(),
            OpsHarness.<WatchResponse>observer(new CompletableFuture<>()));
      } catch (Exception e) {
        ended.completeExceptionally(e);
      }
    });
    // Cancelled only once the server holds the stream, so it ends there as a stream.
    for (int i = 0; i < 200 && !ops.get(ops.http(null), "/metrics", null).body().contains("infraveil_watch_streams 1"); i++) {
      Thread.sleep(50);
    }
    watching.cancel(null);
    String body = "";
    for (int i = 0; i < 100 && !body.contains("OperatorService/Watch"); i++) {
      body = ops.get(ops.http(null), "/metrics", null).body();
      Thread.sleep(50);
    }

    for (String counter : typed(body, "counter")) {
      assertTrue(counter.endsWith("_total"), "counter " + counter + " ends in _total");
    }
    assertTrue(typed(body, "counter").contains("infraveil_log_lines_dropped_total"), body);
    assertTrue(typed(body, "counter").contains("infraveil_history_rows_dropped_total"), body);
    assertTrue(typed(body, "histogram").contains("infraveil_grpc_calls_seconds"), body);
    assertTrue(body.contains("infraveil_grpc_calls_seconds_bucket{method=\"OperatorService/ListHosts\",status=\"OK\",le=\"0.005\"}"),
        body);
    assertTrue(body.contains("le=\"+Inf\""), body);
    assertFalse(body.contains("infraveil_grpc_calls_seconds_bucket{method=\"OperatorService/Watch\""),
        "a Watch stream's duration is not a latency: " + body);
    assertTrue(body.contains("infraveil_grpc_streams_ended_total{method=\"OperatorService/Watch\""), body);

    Matcher info = Pattern.compile("infraveil_build_info\\{([^}]*)} 1(\\.0)?$", Pattern.MULTILINE).matcher(body);
    assertTrue(info.find(), body);
    assertTrue(info.group(1).contains("program=\"controlplane\""), info.group(1));
    assertTrue(info.group(1).contains("java_version=\"" + System.getProperty("java.version") + "\""), info.group(1));
    assertTrue(info.group(1).matches(".*version=\"[0-9][^\"]*\".*"), "the project version: " + info.group(1));
    for (String jvm : List.of("jvm_memory_used_bytes", "jvm_threads_live_threads", "jvm_classes_loaded_classes",
        "process_cpu_usage", "process_uptime_seconds", "process_files_open_files", "jvm_gc_max_data_size_bytes")) {
      assertTrue(body.contains("# TYPE " + jvm + " "), jvm + " in " + body);
    }
    assertEquals(1, count(body, "# TYPE infraveil_build_info "), "one family per name");
  }

  /** Names of the families declared with {@code # TYPE name type}. */
  static List<String> typed(String body, String type) {
    return body.lines().filter(l -> l.startsWith("# TYPE ") && l.endsWith(" " + type))
        .map(l -> l.split(" ")[2]).toList();
  }

  static int count(String body, String text) {
    return (int) body.lines().filter(l -> l.startsWith(text)).count();
  }
}
