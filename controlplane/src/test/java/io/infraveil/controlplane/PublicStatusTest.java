package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import io.infraveil.proto.v1.VersionStatus;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The public status when a new version failed on every host and each rolled back to its last
 * known good version: the deployment reads "serving previous version", nothing is an outage,
 * no host or version name is published, and the two hosts' incidents are one row counting 2.
 */
class PublicStatusTest {

  static final String OLD = "release-alpha";
  static final String NEW = "release-beta";

  @TempDir Path dir;
  OpsHarness ops;

  @BeforeEach
  void start() throws Exception {
    // No timed rollout rounds: a round between the hosts' reports and the reads below would open
    // the deployment-level ROLLOUT_FAILED incident beside the hosts' own (on a busy machine the
    // reads take longer than a round interval).
    ops = new OpsHarness(dir, Map.of("infraveil.rollout-interval", "1h"));
  }

  @AfterEach
  void stop() throws Exception {
    ops.close();
  }

  /**
   * Deploys {@code OLD} then {@code NEW} of {@code deployment} on two hosts, and has each host
   * report that it rolled back to {@code OLD} and serves it healthy.
   */
  static void newVersionRolledBackOnTwoHosts(OpsHarness ops, String deployment, String host1, String host2)
      throws Exception {
    var first = ops.enroll(host1);
    var second = ops.enroll(host2);
    // Online (Sync streams open), and the new version sent to both at once: a rollout moves
    // only online hosts, one at a time unless told otherwise.
    ops.sync(first, new java.util.concurrent.LinkedBlockingQueue<>());
    ops.sync(second, new java.util.concurrent.LinkedBlockingQueue<>());
    String old = ops.deploy(deployment, OLD, host1, host2);
    String fresh = ops.deploy(deployment, NEW,
        io.infraveil.proto.v1.RolloutStrategy.newBuilder().setMaxParallel(2).build(), host1, host2);
    long generation = ops.operator().listDeployments(ListDeploymentsRequest.getDefaultInstance()).getDeploymentsList()
        .stream().filter(d -> d.getName().equals(deployment)).findFirst().orElseThrow().getGeneration();
    for (var host : List.of(first, second)) {
      ops.heartbeat(host, HeartbeatRequest.newBuilder().setHostName(host.name()).setDeployment(deployment)
          .setPayload(PayloadRef.newBuilder().setSha256(old)).setVersionStatus(VersionStatus.VERSION_STATUS_KNOWN_GOOD)
          .setGeneration(generation).setSentAt(ProtoTime.timestamp(Instant.now()))
          .addServices(ServiceStatus.newBuilder().setName("api").setState(ServiceState.SERVICE_STATE_RUNNING)
              .setHealth(HealthStatus.HEALTH_STATUS_HEALTHY))
          .addEvents(HostEvent.newBuilder().setAt(ProtoTime.timestamp(Instant.now()))
              .setKind(EventKind.EVENT_KIND_ROLLED_BACK).setDeployment(deployment).setReason("DEPLOY_FAILURES")
              .setPayload(PayloadRef.newBuilder().setSha256(old))
              .setMessage("rolled back from " + fresh + " to last known good " + old))
          .build());
    }
  }

  @Test
  void aFailedUpdateEveryHostSurvivedReadsServingPreviousVersionWithoutNamesAndIncidentsGrouped() throws Exception {
    newVersionRolledBackOnTwoHosts(ops, "shop", "web-1", "web-2");

    var response = ops.get(ops.http(null), "/status.json", null);
    assertEquals(200, response.statusCode());
    JsonNode status = new ObjectMapper().readTree(response.body());
    assertEquals("operational", status.get("overall").asText(), response.body());
    JsonNode shop = status.get("deployments").get(0);
    assertEquals("shop", shop.get("name").asText());
    assertEquals("serving-previous-version", shop.get("health").asText());
    assertEquals("serving previous version", shop.get("summary").asText());
    assertEquals(2, shop.get("hostsServing").asInt());
    assertEquals(2, shop.get("hostsTotal").asInt());
    assertEquals(2, shop.get("hostsFailed").asInt());
    assertFalse(shop.has("version"), "no version field on the public page: " + response.body());
    JsonNode incidents = status.get("openIncidents");
    assertEquals(1, incidents.size(), "one row per deployment and cause: " + response.body());
    assertEquals("ROLLED_BACK", incidents.get(0).get("rule").asText());
    assertEquals("shop", incidents.get(0).get("deployment").asText());
    assertEquals(2, incidents.get(0).get("hosts").asInt());
    assertEquals(2, ops.operator().listIncidents(io.infraveil.proto.v1.ListIncidentsRequest.newBuilder()
        .setOpenOnly(true).build()).getIncidentsCount(), "operators still see one incident per host");

    var page = ops.get(ops.http(null), "/status", null);
    for (String body : List.of(response.body(), page.body())) {
      for (String secret : List.of("web-1", "web-2", OLD, NEW)) {
        assertFalse(body.contains(secret), secret + " must not appear on the public page: " + body);
      }
    }
    assertTrue(page.body().contains(">serving previous version</span>"), page.body());
    assertTrue(page.body().contains("<td>2 / 2</td>"), page.body());
    assertTrue(page.body().contains("class=\"banner operational\" id=\"overall\">All systems operational"),
        "a failed update that every host survived is no outage: " + page.body());
  }
}
