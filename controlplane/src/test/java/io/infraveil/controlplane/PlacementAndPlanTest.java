package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.proto.v1.CreateJoinTokenRequest;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.ListDeploymentsResponse;
import io.infraveil.proto.v1.PlanChange;
import io.infraveil.proto.v1.PlanDeploymentRequest;
import io.infraveil.proto.v1.PlanDeploymentResponse;
import io.infraveil.proto.v1.PlannedHost;
import io.infraveil.proto.v1.PutDeploymentRequest;
import io.infraveil.proto.v1.PutDeploymentResponse;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Placement is checked against the enrolled fleet before a deployment is stored, over real mTLS
 * gRPC and H2; PlanDeployment answers what a deploy would do and writes nothing.
 */
class PlacementAndPlanTest {

  @TempDir Path dir;
  OpsHarness ops;

  @BeforeEach
  void start() throws Exception {
    ops = new OpsHarness(dir, Map.of());
    enroll("web-1", Map.of("zone", "a"));
    enroll("web-2", Map.of("zone", "b"));
    enroll("web-3", Map.of("zone", "a"));
  }

  @AfterEach
  void stop() throws Exception {
    ops.close();
  }

  void enroll(String name, Map<String, String> labels) throws Exception {
    String token = ops.operator().createJoinToken(CreateJoinTokenRequest.newBuilder().setHostName(name)
        .putAllLabels(labels).build()).getJoinToken();
    ops.enrollWith(token, name);
  }

  /** Uploads an app whose one service asks for {@code instances}; returns its hash. */
  String upload(String version, int instances) throws Exception {
    Path app = Files.createTempDirectory(dir, "app");
    Files.writeString(app.resolve("config.yaml"), """
        services:
          api:
            instances: %d
            run:
              start: [ "sleep 1000" ]
        """.formatted(instances));
    Files.writeString(app.resolve("VERSION"), version);
    ByteArrayOutputStream archive = new ByteArrayOutputStream();
    PayloadArchive.pack(app, archive);
    return ops.upload(archive.toByteArray(), version, "app").getPayload().getSha256();
  }

  PutDeploymentResponse put(String sha, List<String> hosts, Map<String, String> labels) throws Exception {
    return ops.operator().putDeployment(PutDeploymentRequest.newBuilder().setName("web").setPayloadSha256(sha)
        .addAllHosts(hosts).putAllLabels(labels).build());
  }

  ListDeploymentsResponse listed() throws Exception {
    return ops.operator().listDeployments(ListDeploymentsRequest.getDefaultInstance());
  }

  @Test
  void anUnknownHostIsRefusedNamingTheEnrolledHostsAndNothingIsStored() throws Exception {
    String sha = upload("v1", 1);
    var error = assertThrows(StatusRuntimeException.class, () -> put(sha, List.of("web-1", "nosuch"), Map.of()));
    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    String message = error.getStatus().getDescription();
    assertTrue(message.contains("nosuch is not enrolled"), message);
    assertTrue(message.contains("enrolled hosts: web-1, web-2, web-3"), message);
    assertEquals(0, listed().getDeploymentsCount());
  }

  @Test
  void aRevokedHostIsRefusedAsRevoked() throws Exception {
    String sha = upload("v1", 1);
    ops.operator().revokeHost(io.infraveil.proto.v1.RevokeHostRequest.newBuilder().setHostName("web-2")
        .setReason("test").build());
    var error = assertThrows(StatusRuntimeException.class, () -> put(sha, List.of("web-2"), Map.of()));
    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    String message = error.getStatus().getDescription();
    assertTrue(message.contains("web-2 is revoked") && message.contains("enrolled hosts: web-1, web-3"), message);
  }

  @Test
  void aSelectorWithTwoValuesForOneKeyIsRefusedNamingTheValuesHostsHave() throws Exception {
    String sha = upload("v1", 1);
    // What a client that does not split --labels zone=a,zone=b sends.
    var error = assertThrows(StatusRuntimeException.class, () -> put(sha, List.of(), Map.of("zone", "a,zone=b")));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    String message = error.getStatus().getDescription();
    assertTrue(message.contains("values of zone on hosts: a, b"), message);
    assertEquals(0, listed().getDeploymentsCount());
  }

  @Test
  void aSelectorMatchingNoHostIsRefusedNamingTheValuesHostsHave() throws Exception {
    String sha = upload("v1", 1);
    var error = assertThrows(StatusRuntimeException.class, () -> put(sha, List.of(), Map.of("zone", "c")));
    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    String message = error.getStatus().getDescription();
    assertTrue(message.contains("no enrolled host has labels zone=c"), message);
    assertTrue(message.contains("values of zone on hosts: a, b"), message);
    var missingKey = assertThrows(StatusRuntimeException.class, () -> put(sha, List.of(), Map.of("tier", "web")));
    assertTrue(missingKey.getStatus().getDescription().contains("no host has the key tier"),
        missingKey.getStatus().getDescription());
    assertEquals(0, listed().getDeploymentsCount());
  }

  // instances means the same for both kinds of target: hosts wanted, never a cap, fewer warned.
  @Test
  void instancesMeansTheSameWithHostsAndLabels() throws Exception {
    String three = upload("v1", 3);
    PutDeploymentResponse byLabels = put(three, List.of(), Map.of("zone", "a"));
    assertEquals(List.of("web-1", "web-3"), byLabels.getDeployment().getPlacedHostsList());
    assertEquals(3, byLabels.getDeployment().getInstances());
    assertEquals(1, byLabels.getWarningsCount(), byLabels.getWarningsList().toString());
    assertTrue(byLabels.getWarnings(0).contains("asks for 3 instances (hosts) but is placed on 2: web-1, web-3"),
        byLabels.getWarnings(0));
    assertEquals(byLabels.getWarningsList(), byLabels.getDeployment().getPlacementWarningsList());

    PutDeploymentResponse byHosts = put(three, List.of("web-1", "web-3"), Map.of());
    assertEquals(List.of("web-1", "web-3"), byHosts.getDeployment().getPlacedHostsList());
    assertTrue(byHosts.getWarnings(0).contains("asks for 3 instances (hosts) but is placed on 2: web-1, web-3"),
        byHosts.getWarnings(0));
    // The operations view keeps saying it, for `ctl status`.
    assertEquals(1, listed().getDeployments(0).getPlacementWarningsCount());

    // One instance never drops a selected host: every matching host runs it, without warning.
    String one = upload("v2", 1);
    PutDeploymentResponse all = put(one, List.of(), Map.of("zone", "a"));
    assertEquals(List.of("web-1", "web-3"), all.getDeployment().getPlacedHostsList());
    assertEquals(0, all.getWarningsCount(), all.getWarningsList().toString());
  }

  @Test
  void generationGrowsWithEachNewVersion() throws Exception {
    String v1 = upload("v1", 1);
    String v2 = upload("v2", 1);
    assertEquals(1, put(v1, List.of("web-1"), Map.of()).getDeployment().getGeneration());
    assertEquals(1, put(v1, List.of("web-1", "web-2"), Map.of()).getDeployment().getGeneration(),
        "changing only the targets is no new version");
    assertEquals(2, put(v2, List.of("web-1", "web-2"), Map.of()).getDeployment().getGeneration());
    var rolledBack = ops.operator().rollbackDeployment(io.infraveil.proto.v1.RollbackDeploymentRequest.newBuilder()
        .setName("web").build()).getDeployment();
    assertEquals(3, rolledBack.getGeneration(), "a rollback is a new version too");
  }

  // Plan answers with placement, old -> new per host and batches, and changes nothing anywhere.
  @Test
  void planShowsWhatADeployWouldDoAndChangesNothing() throws Exception {
    String v1 = upload("v1", 1);
    put(v1, List.of("web-1", "web-2"), Map.of());
    String notUploaded = HexFormat.of().formatHex(new byte[32]).replace('0', 'e');

    List<List<String>> before = snapshot();
    ListDeploymentsResponse listedBefore = listed();
    PlanDeploymentResponse plan = ops.operator().planDeployment(PlanDeploymentRequest.newBuilder()
        .setName("web").setPayloadSha256(notUploaded).setVersion("v2")
        .putAllLabels(Map.of("zone", "a")).putInstancesByService("api", 3)
        .setMaxParallel(1).setCanary(1).build());

    assertTrue(plan.getExists());
    assertFalse(plan.getPayloadStored());
    assertEquals(3, plan.getInstances());
    assertEquals(2, plan.getGeneration());
    PlannedHost web1 = plan.getHosts(0);
    assertEquals("web-1", web1.getHostName());
    assertEquals(PlanChange.PLAN_CHANGE_UPDATE, web1.getChange());
    assertEquals(v1, web1.getFrom().getSha256());
    assertEquals("v1", web1.getFrom().getVersion());
    assertEquals("v2", web1.getTo().getVersion());
    assertEquals(Map.of("zone", "a"), web1.getLabelsMap());
    assertEquals("web-2", plan.getHosts(1).getHostName());
    assertEquals(PlanChange.PLAN_CHANGE_REMOVE, plan.getHosts(1).getChange());
    assertEquals("web-3", plan.getHosts(2).getHostName());
    assertEquals(PlanChange.PLAN_CHANGE_INSTALL, plan.getHosts(2).getChange());
    assertEquals(3, plan.getHostsCount());
    assertEquals(2, plan.getBatchesCount());
    assertEquals(List.of("web-1"), plan.getBatches(0).getHostNamesList());
    assertTrue(plan.getBatches(0).getCanary());
    assertEquals(List.of("web-3"), plan.getBatches(1).getHostNamesList());
    assertFalse(plan.getBatches(1).getCanary());
    assertEquals(1, plan.getWarningsCount(), plan.getWarningsList().toString());
    assertTrue(plan.getWarnings(0).contains("asks for 3 instances"), plan.getWarnings(0));

    assertEquals(before, snapshot(), "a plan must write nothing to the database");
    assertEquals(listedBefore, listed());

    // A refused placement is refused by plan exactly as by deploy.
    var error = assertThrows(StatusRuntimeException.class, () -> ops.operator().planDeployment(
        PlanDeploymentRequest.newBuilder().setName("web").setPayloadSha256(v1).addHosts("nosuch").build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("enrolled hosts: web-1, web-2, web-3"));
    assertEquals(before, snapshot());
  }

  /** Every row of the tables a deploy writes: deployments, sequences, payloads, hosts' desired state. */
  List<List<String>> snapshot() throws Exception {
    List<List<String>> rows = new ArrayList<>();
    DataSource data = ops.controlPlane.bean(DataSource.class);
    try (Connection c = data.getConnection(); Statement s = c.createStatement()) {
      for (String sql : List.of("SELECT * FROM deployments ORDER BY name",
          "SELECT * FROM deployment_sequences ORDER BY name",
          "SELECT sha256, version_label, uploaded_at FROM payloads ORDER BY sha256",
          "SELECT name, desired_revision, acked_revision, desired_state FROM hosts ORDER BY name")) {
        try (ResultSet r = s.executeQuery(sql)) {
          int columns = r.getMetaData().getColumnCount();
          while (r.next()) {
            List<String> row = new ArrayList<>(List.of(sql));
            for (int i = 1; i <= columns; i++) {
              Object value = r.getObject(i);
              row.add(value instanceof byte[] bytes ? HexFormat.of().formatHex(bytes) : String.valueOf(value));
            }
            rows.add(row);
          }
        }
      }
    }
    return rows;
  }
}
