package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.proto.v1.CreateApiTokenRequest;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTPS surface of a real control plane: who may read what, over real TLS. */
class OperationsHttpTest {

  @TempDir Path dir;
  OpsHarness ops;

  @BeforeEach
  void start() throws Exception {
    ops = new OpsHarness(dir, Map.of());
    ops.enroll("web-1");
    ops.deploy("shop", "v1", "web-1");
  }

  @AfterEach
  void stop() throws Exception {
    ops.close();
  }

  @Test
  void operationsJsonIsRefusedWithoutCredentialsAndSaysHowToAuthenticate() throws Exception {
    var response = ops.get(ops.http(null), "/client/api/operations", null);
    assertEquals(401, response.statusCode());
    assertTrue(response.body().contains("operator client certificate"), response.body());
    assertTrue(response.body().contains("Authorization: Bearer"), response.body());
    assertEquals("Bearer realm=\"infraveil\"", response.headers().firstValue("WWW-Authenticate").orElse(""));
    assertFalse(response.body().contains("shop"), "nothing of the operations view leaks");
  }

  @Test
  void operationsJsonIsRefusedForAHostCertificateNamingTheHost() throws Exception {
    var response = ops.get(ops.http(ops.pki.host("web-1")), "/client/api/operations", null);
    assertEquals(403, response.statusCode());
    assertTrue(response.body().contains("spiffe://test.infraveil/host/web-1"), response.body());
    assertTrue(response.body().contains("only operators"), response.body());
    var events = ops.controlPlane.bean(SecurityEventStore.class).recent(20);
    assertTrue(events.stream().anyMatch(e -> e.kind().equals("HTTP_FORBIDDEN")
        && "spiffe://test.infraveil/host/web-1".equals(e.identity())), events.toString());
  }

  @Test
  void operationsJsonIsServedForAnOperatorCertificate() throws Exception {
    var response = ops.get(ops.http(ops.pki.operator("alice")), "/client/api/operations", null);
    assertEquals(200, response.statusCode(), response.body());
    assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    assertTrue(response.body().contains("\"deployments\""), response.body());
    assertTrue(response.body().contains("\"name\":\"shop\""), response.body());
    assertTrue(response.body().contains("\"hosts\""), response.body());
    assertTrue(response.body().contains("\"pipeline\""), "the upload and placement are pipeline steps");
  }

  @Test
  void operationsJsonAndDashboardAreServedForABearerTokenAndABadTokenIsForbidden() throws Exception {
    var created = ops.operator().createApiToken(CreateApiTokenRequest.newBuilder().setName("ci").setTtlSeconds(600)
        .build());
    assertTrue(created.getToken().startsWith("ivt_"), created.getToken());

    var response = ops.get(ops.http(null), "/client/api/operations", created.getToken());
    assertEquals(200, response.statusCode(), response.body());
    assertTrue(response.body().contains("\"name\":\"shop\""), response.body());

    var dashboard = ops.get(ops.http(null), "/dashboard", created.getToken());
    assertEquals(200, dashboard.statusCode());
    assertTrue(dashboard.body().contains("shop") && dashboard.body().contains("api-token ci"), dashboard.body());
    assertTrue(dashboard.body().contains("<h2>Deployment history</h2>"), dashboard.body());
    assertTrue(dashboard.body().contains("<tr class=\"history\"><td><b>shop</b></td><td>v1 (sequence 1)</td><td>none</td>"
        + "<td>1</td>"), dashboard.body());

    var bad = ops.get(ops.http(null), "/client/api/operations", "ivt_not-a-real-token");
    assertEquals(403, bad.statusCode());
    assertTrue(bad.body().contains("unknown or expired"), bad.body());
  }

  @Test
  void statusPageAndItsJsonAreReadableWithoutCredentialsAndAggregateOnly() throws Exception {
    var page = ops.get(ops.http(null), "/status", null);
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("shop"), page.body());
    assertTrue(page.body().contains("/status.json"), "the page refreshes itself from /status.json");
    assertFalse(page.body().contains("web-1"), "no host names on the public page");

    var json = ops.get(ops.http(null), "/status.json", null);
    assertEquals(200, json.statusCode());
    assertTrue(json.body().contains("\"name\":\"shop\""), json.body());
    assertFalse(json.body().contains("web-1"), json.body());
  }

  @Test
  void metricsAreServedInPrometheusFormat() throws Exception {
    var metrics = ops.get(ops.http(null), "/metrics", null);
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.body().contains("infraveil_heartbeats_total"), metrics.body());
    assertTrue(metrics.body().contains("infraveil_streams_open"), metrics.body());
    assertTrue(metrics.body().contains("infraveil_grpc_calls_seconds_count"), metrics.body());
  }
}
