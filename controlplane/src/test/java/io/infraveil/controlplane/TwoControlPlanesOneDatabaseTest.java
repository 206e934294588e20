package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.PutDeploymentRequest;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two control planes in one JVM on one database (an H2 file both open; each has its own data
 * dir, given the same master key): concurrent deploys of one deployment through both end with
 * each deploy either stored whole or refused with ABORTED naming the deployment, and no update
 * lost — the generation counts every stored version, every sequence is new, and both control
 * planes give the host the same desired state.
 */
class TwoControlPlanesOneDatabaseTest {

  private static final int ROUNDS = 6;

  @TempDir
  Path dir;

  private OpsHarness a;
  private ControlPlane b;

  /** The database both control planes are given: here an H2 file both open in this JVM. */
  Map<String, Object> shared() throws Exception {
    return Map.of("datasources.default.url", "jdbc:h2:file:"
        + dir.resolve("shared/controlplane").toAbsolutePath() + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0");
  }

  @BeforeEach
  void start() throws Exception {
    Map<String, Object> shared = shared();
    a = new OpsHarness(dir, shared);
    Files.createDirectories(dir.resolve("b"));
    Files.copy(dir.resolve("data/master.key"), dir.resolve("b/master.key"));
    b = ControlPlane.start(dir.resolve("b"), dir.resolve("pki"), 0, shared);
  }

  @AfterEach
  void stop() throws Exception {
    if (b != null) {
      b.close();
    }
    a.close();
  }

  @Test
  void concurrentDeploysThroughTwoControlPlanesLoseNoUpdate() throws Exception {
    a.enroll("web-1");
    List<String> payloads = new ArrayList<>();
    for (int i = 0; i <= 2 * ROUNDS; i++) {
      payloads.add(upload("v" + i));
    }
    var throughA = a.operator();
    var throughB = OperatorServiceGrpc.newBlockingStub(a.pki.channel(b.grpcPort(), a.pki.operator("alice")))
        .withDeadlineAfter(60, TimeUnit.SECONDS);
    throughA.putDeployment(deploy(payloads.get(0)));

    int stored = 1;
    int aborted = 0;
    Set<Long> sequences = new HashSet<>(List.of(1L));
    long highest = 1;
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      for (int round = 1; round <= ROUNDS; round++) {
        CyclicBarrier together = new CyclicBarrier(2);
        String first = payloads.get(2 * round - 1);
        String second = payloads.get(2 * round);
        Future<Object> viaA = threads.submit(() -> attempt(together, throughA, first));
        Future<Object> viaB = threads.submit(() -> attempt(together, throughB, second));
        for (Object outcome : List.of(viaA.get(60, TimeUnit.SECONDS), viaB.get(60, TimeUnit.SECONDS))) {
          if (outcome instanceof Long sequence) {
            stored++;
            assertTrue(sequences.add(sequence), "sequence " + sequence + " was given twice");
            highest = Math.max(highest, sequence);
          } else {
            StatusRuntimeException refused = (StatusRuntimeException) outcome;
            assertEquals(Status.Code.ABORTED, refused.getStatus().getCode(), refused.toString());
            assertTrue(refused.getStatus().getDescription().startsWith("deployment web changed concurrently (now "),
                refused.getStatus().getDescription());
            aborted++;
          }
        }
      }
    } finally {
      threads.shutdownNow();
    }

    assertEquals(2 * ROUNDS + 1, stored + aborted);
    var record = a.controlPlane.bean(DeploymentStore.class).find("web").orElseThrow();
    assertEquals(stored, record.generation(), "every stored version bumped the generation once ("
        + aborted + " deploys were ABORTED)");
    assertEquals(highest, record.sequence());
    // Which version the host is given is the rollouts' business (the first one is still rolling
    // out to a host that never reports); both control planes give it the same stored state.
    var fromA = a.controlPlane.bean(DesiredStates.class).reload("web-1");
    var fromB = b.bean(DesiredStates.class).reload("web-1");
    assertEquals(fromA.getRevision(), fromB.getRevision());
    assertEquals(fromA.getAgentsList(), fromB.getAgentsList());
  }

  /** A deploy's new sequence, or the status it was refused with. */
  private static Object attempt(CyclicBarrier together, OperatorServiceGrpc.OperatorServiceBlockingStub through,
      String sha) throws Exception {
    together.await(30, TimeUnit.SECONDS);
    try {
      return through.putDeployment(deploy(sha)).getDeployment().getPayload().getSequence();
    } catch (StatusRuntimeException e) {
      return e;
    }
  }

  private static PutDeploymentRequest deploy(String sha) {
    return PutDeploymentRequest.newBuilder().setName("web").setPayloadSha256(sha).addHosts("web-1").build();
  }

  private String upload(String version) throws Exception {
    Path app = Files.createTempDirectory(dir, "app");
    Files.writeString(app.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "sleep 1000" ]
            healthcheck:
              cmd: "true"
        """);
    Files.writeString(app.resolve("VERSION"), version);
    ByteArrayOutputStream archive = new ByteArrayOutputStream();
    PayloadArchive.pack(app, archive);
    return a.upload(archive.toByteArray(), version, "web").getPayload().getSha256();
  }
}
