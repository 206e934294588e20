package io.infraveil.controlplane;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.ops.WatchHub;
import io.infraveil.controlplane.store.SecretStore;
import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.payload.secret.SecretSeal;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.proto.v1.DeleteDeploymentRequest;
import io.infraveil.proto.v1.DeleteSecretRequest;
import io.infraveil.proto.v1.FetchSecretsRequest;
import io.infraveil.proto.v1.FetchSecretsResponse;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.ListSecretsRequest;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.SealedSecret;
import io.infraveil.proto.v1.SecretAdminServiceGrpc;
import io.infraveil.proto.v1.SecretServiceGrpc;
import io.infraveil.proto.v1.SetSecretRequest;
import io.infraveil.proto.v1.SetSecretResponse;
import io.infraveil.proto.v1.WatchRequest;
import io.infraveil.proto.v1.WatchResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets through a real control plane over real mTLS: set by an operator, sealed at rest,
 * delivered sealed to the placed host only, refused (and recorded) for anyone else.
 */
class SecretsFlowTest {

  @TempDir Path dir;
  OpsHarness harness;
  final String value = "pw-" + UUID.randomUUID();

  @BeforeEach
  void start() throws Exception {
    harness = new OpsHarness(dir, Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  SecretAdminServiceGrpc.SecretAdminServiceBlockingStub admin() throws Exception {
    return SecretAdminServiceGrpc.newBlockingStub(harness.channel(harness.pki.operator("alice")))
        .withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  SecretServiceGrpc.SecretServiceBlockingStub hostStub(OpsHarness.EnrolledHost host) throws Exception {
    return SecretServiceGrpc.newBlockingStub(harness.channel(host.credential()))
        .withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  SetSecretResponse set(String deployment, String name, String text) throws Exception {
    return admin().setSecret(SetSecretRequest.newBuilder().setDeployment(deployment).setName(name)
        .setValue(ByteString.copyFrom(text, UTF_8)).build());
  }

  long generation(String deployment) throws Exception {
    return harness.operator().listDeployments(ListDeploymentsRequest.getDefaultInstance())
        .getDeploymentsList().stream().filter(d -> d.getName().equals(deployment)).findFirst()
        .orElseThrow().getGeneration();
  }

  /** The placed host receives the secret sealed for it and opens it with its own keys. */
  @Test
  void placedHostFetchesTheSecretSealedForIt() throws Exception {
    OpsHarness.EnrolledHost web1 = harness.enroll("web-1");
    harness.deploy("web", "v1", "web-1");
    long before = generation("web");

    SetSecretResponse response = set("web", "db_password", value);
    assertEquals(1, response.getSecret().getVersion());
    assertEquals("spiffe://" + harness.controlPlane.bean(ServerPki.class).trustDomain()
        + "/operator/alice", response.getSecret().getSetBy());
    assertTrue(response.getRestarted());
    assertEquals(before + 1, generation("web"), "a new value restarts the deployment once");

    FetchSecretsResponse fetched = hostStub(web1).fetchSecrets(
        FetchSecretsRequest.newBuilder().setDeployment("web").build());
    assertEquals(1, fetched.getSecretsCount());
    SealedSecret sealed = fetched.getSecrets(0);
    assertEquals("db_password", sealed.getName());
    assertEquals(1, sealed.getVersion());
    assertFalse(contains(fetched.toByteArray(), value), "the value travels sealed");
    byte[] opened = SecretSeal.open(HostKeys.fromSecret(web1.secret()).wrapKey(),
        sealed.getWrappedKey().toByteArray(), sealed.getCiphertext().toByteArray(),
        SecretSeal.binding("web", "db_password", 1));
    assertArrayEquals(value.getBytes(UTF_8), opened);
  }

  /** A host the deployment is not placed on is refused, told why, and recorded. */
  @Test
  void unplacedHostIsDeniedAndRecordedAsASecurityEvent() throws Exception {
    harness.enroll("web-1");
    OpsHarness.EnrolledHost web2 = harness.enroll("web-2");
    harness.deploy("web", "v1", "web-1");
    set("web", "db_password", value);

    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> hostStub(web2)
        .fetchSecrets(FetchSecretsRequest.newBuilder().setDeployment("web").build()));
    assertEquals(Status.Code.PERMISSION_DENIED, error.getStatus().getCode());
    assertEquals("host web-2 may not fetch the secrets of deployment web: the deployment is not"
        + " placed on web-2", error.getStatus().getDescription());
    var events = harness.controlPlane.bean(SecurityEventStore.class).recent(10);
    assertTrue(events.stream().anyMatch(e -> e.kind().equals("PERMISSION_DENIED")
        && e.method().endsWith("SecretService/FetchSecrets") && e.identity().endsWith("/host/web-2")
        && e.message().contains("deployment web")), events.toString());
    assertTrue(events.stream().noneMatch(e -> e.message().contains(value)), events.toString());
  }

  /** A host that ran the deployment is refused once the deployment is deleted. */
  @Test
  void hostIsDeniedOnceTheDeploymentIsDeleted() throws Exception {
    OpsHarness.EnrolledHost web1 = harness.enroll("web-1");
    harness.deploy("web", "v1", "web-1");
    set("web", "db_password", value);
    assertEquals(1, hostStub(web1).fetchSecrets(FetchSecretsRequest.newBuilder()
        .setDeployment("web").build()).getSecretsCount());

    harness.operator().deleteDeployment(DeleteDeploymentRequest.newBuilder().setName("web")
        .build());
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> hostStub(web1)
        .fetchSecrets(FetchSecretsRequest.newBuilder().setDeployment("web").build()));
    assertEquals(Status.Code.PERMISSION_DENIED, error.getStatus().getCode());
    assertEquals("host web-1 may not fetch the secrets of deployment web: the deployment is not"
        + " placed on web-1", error.getStatus().getDescription());
  }

  /** Changes are announced on Watch by name, version and operator, never by value. */
  @Test
  void changesAreAnnouncedOnWatchWithoutValues() throws Exception {
    harness.enroll("web-1");
    harness.deploy("web", "v1", "web-1");
    LinkedBlockingQueue<WatchResponse> watched = new LinkedBlockingQueue<>();
    OperatorServiceGrpc.newStub(harness.channel(harness.pki.operator("alice"))).watch(
        WatchRequest.newBuilder().setDeployment("web").build(), new StreamObserver<>() {
          @Override
          public void onNext(WatchResponse response) {
            watched.add(response);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (harness.controlPlane.bean(WatchHub.class).subscribers() == 0) {
      assertTrue(System.nanoTime() < deadline, "the Watch stream never subscribed");
      Thread.sleep(10);
    }

    set("web", "db_password", value);
    admin().deleteSecret(DeleteSecretRequest.newBuilder().setDeployment("web")
        .setName("db_password").build());
    String alice = "spiffe://" + harness.controlPlane.bean(ServerPki.class).trustDomain()
        + "/operator/alice";
    List<String> texts = new java.util.ArrayList<>();
    while (texts.size() < 10) {
      WatchResponse next = watched.poll(10, TimeUnit.SECONDS);
      if (next == null) {
        break;
      }
      texts.add(next.getText());
      assertFalse(next.toString().contains(value), next.toString());
      if (next.getText().contains("deleted by")) {
        break;
      }
    }
    assertTrue(texts.contains("secret db_password of deployment web set to version 1 by " + alice
        + "; the deployment restarts to pick it up"), texts.toString());
    assertTrue(texts.contains("secret db_password of deployment web deleted by " + alice),
        texts.toString());
  }

  /** Secrets of a deployment that does not exist are refused to every host. */
  @Test
  void secretsOfAnUnknownDeploymentAreDenied() throws Exception {
    OpsHarness.EnrolledHost web1 = harness.enroll("web-1");
    set("later", "db_password", value);
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> hostStub(web1)
        .fetchSecrets(FetchSecretsRequest.newBuilder().setDeployment("later").build()));
    assertEquals(Status.Code.PERMISSION_DENIED, error.getStatus().getCode());
  }

  /** Hosts cannot set or list secrets; operators cannot fetch them. */
  @Test
  void onlyOperatorsAdministerAndOnlyHostsFetch() throws Exception {
    OpsHarness.EnrolledHost web1 = harness.enroll("web-1");
    harness.deploy("web", "v1", "web-1");
    var asHost = SecretAdminServiceGrpc.newBlockingStub(harness.channel(web1.credential()));
    StatusRuntimeException setByHost = assertThrows(StatusRuntimeException.class, () ->
        asHost.setSecret(SetSecretRequest.newBuilder().setDeployment("web").setName("x")
            .setValue(ByteString.copyFromUtf8("v")).build()));
    assertEquals(Status.Code.PERMISSION_DENIED, setByHost.getStatus().getCode());
    assertTrue(setByHost.getStatus().getDescription().contains("only operators may call it"),
        setByHost.getStatus().getDescription());

    set("web", "db_password", value);
    var asOperator = SecretServiceGrpc.newBlockingStub(harness.channel(harness.pki.operator("alice")));
    StatusRuntimeException fetchByOperator = assertThrows(StatusRuntimeException.class, () ->
        asOperator.fetchSecrets(FetchSecretsRequest.newBuilder().setDeployment("web").build()));
    assertEquals(Status.Code.PERMISSION_DENIED, fetchByOperator.getStatus().getCode());
    assertTrue(fetchByOperator.getStatus().getDescription().contains("only hosts may call it"),
        fetchByOperator.getStatus().getDescription());
  }

  /** Listing shows names, versions and who set them, never values; versions only grow. */
  @Test
  void listShowsNamesAndVersionsAndVersionsOnlyGrow() throws Exception {
    set("web", "db_password", value);
    SetSecretResponse second = set("web", "db_password", value + "-2");
    assertEquals(2, second.getSecret().getVersion());
    assertFalse(second.getRestarted(), "no deployment web yet, nothing to restart");
    set("web", "api_key", value + "-k");

    var listed = admin().listSecrets(ListSecretsRequest.newBuilder().setDeployment("web").build());
    assertEquals(2, listed.getSecretsCount());
    assertEquals("api_key", listed.getSecrets(0).getName());
    assertEquals(1, listed.getSecrets(0).getVersion());
    assertEquals("db_password", listed.getSecrets(1).getName());
    assertEquals(2, listed.getSecrets(1).getVersion());
    assertFalse(contains(listed.toByteArray(), value), "a listing never carries a value");

    assertTrue(admin().deleteSecret(DeleteSecretRequest.newBuilder().setDeployment("web")
        .setName("db_password").build()).getDeleted());
    assertEquals(3, set("web", "db_password", value).getSecret().getVersion(),
        "a re-created secret never reuses a version");
  }

  /** At rest the value is sealed; after a restart of the control plane it still opens. */
  @Test
  void valueIsSealedAtRestAndSurvivesARestart() throws Exception {
    OpsHarness.EnrolledHost web1 = harness.enroll("web-1");
    harness.deploy("web", "v1", "web-1");
    set("web", "db_password", value);
    var stored = harness.controlPlane.bean(SecretStore.class).find("web", "db_password")
        .orElseThrow();
    assertFalse(contains(stored.valueSealed(), value));
    assertFalse(stored.toString().contains(value));

    harness.close();
    harness = new OpsHarness(dir, Map.of());
    FetchSecretsResponse fetched = hostStub(web1).fetchSecrets(
        FetchSecretsRequest.newBuilder().setDeployment("web").build());
    byte[] opened = SecretSeal.open(HostKeys.fromSecret(web1.secret()).wrapKey(),
        fetched.getSecrets(0).getWrappedKey().toByteArray(),
        fetched.getSecrets(0).getCiphertext().toByteArray(),
        SecretSeal.binding("web", "db_password", 1));
    assertEquals(value, new String(opened, StandardCharsets.UTF_8));
  }

  /** Empty, oversized and badly named secrets are refused and nothing is stored. */
  @Test
  void badSecretsAreRefusedAndNothingIsStored() throws Exception {
    StatusRuntimeException empty = assertThrows(StatusRuntimeException.class,
        () -> set("web", "db_password", ""));
    assertEquals(Status.Code.INVALID_ARGUMENT, empty.getStatus().getCode());
    assertEquals("secret db_password of deployment web is empty: nothing was stored",
        empty.getStatus().getDescription());
    StatusRuntimeException big = assertThrows(StatusRuntimeException.class,
        () -> set("web", "db_password", "x".repeat(SecretSeal.MAX_VALUE_BYTES + 1)));
    assertEquals(Status.Code.INVALID_ARGUMENT, big.getStatus().getCode());
    assertTrue(big.getStatus().getDescription().contains("over the limit of 65536"),
        big.getStatus().getDescription());
    StatusRuntimeException name = assertThrows(StatusRuntimeException.class,
        () -> set("web", "DB/password", value));
    assertEquals(Status.Code.INVALID_ARGUMENT, name.getStatus().getCode());
    assertTrue(name.getStatus().getDescription().startsWith("secret name \"DB/password\" is invalid"),
        name.getStatus().getDescription());
    assertEquals(0, admin().listSecrets(ListSecretsRequest.newBuilder().setDeployment("web")
        .build()).getSecretsCount());
  }

  private static boolean contains(byte[] haystack, String needle) {
    return new String(haystack, StandardCharsets.ISO_8859_1).contains(needle);
  }
}
