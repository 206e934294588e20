package io.infraveil.controlplane.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.controlplane.deploy.Deployments;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.ingest.HostEventMarks;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.controlplane.store.HostStore;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.controlplane.store.SqlDialect;
import io.infraveil.host.time.MutableClock;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.RolloutStrategy;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rollout engine over real H2 (every migration) with a fake clock: hosts report through the
 * real ingest, the engine runs one round per {@link #round}, and what each host would be told
 * is read from the real desired states.
 */
final class RolloutEngineTest {

  private static final String NAME = "web";
  private static final String OPERATOR = "spiffe://test/operator/alice";

  @TempDir Path dir;

  private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final Set<String> online = new LinkedHashSet<>();
  private final List<String> steps = new ArrayList<>();
  private JdbcDataSource dataSource;
  private DeploymentStore deploymentStore;
  private PayloadStore payloads;
  private HostStore hosts;
  private DesiredStates desired;
  private ReportIngest ingest;
  private HostLiveness liveness;
  private RolloutEngine engine;
  private Deployments deployments;
  private String v1;
  private String v2;

  @BeforeEach
  void setUp() {
    open();
    v1 = payload("v1");
    v2 = payload("v2");
  }

  @AfterEach
  void shutDown() throws Exception {
    try (var c = dataSource.getConnection(); var s = c.createStatement()) {
      s.execute("SHUTDOWN");
    }
  }

  /** Builds every piece over the database in {@code dir}, as a (re)started control plane does. */
  private void open() {
    JdbcDataSource dataSource = new JdbcDataSource();
    dataSource.setURL("jdbc:h2:file:" + dir.toAbsolutePath().resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE;DB_CLOSE_DELAY=-1");
    dataSource.setUser("sa");
    Flyway.configure().dataSource(dataSource).locations(SqlDialect.H2.migrationLocations().toArray(String[]::new)).load().migrate();
    this.dataSource = dataSource;
    Jdbc jdbc = new Jdbc(dataSource);
    hosts = new HostStore(jdbc);
    deploymentStore = new DeploymentStore(jdbc);
    payloads = new PayloadStore(jdbc);
    desired = new DesiredStates(jdbc, hosts, deploymentStore, payloads, clock);
    ingest = new ReportIngest(clock, new HostEventMarks(dataSource, clock));
    liveness = new HostLiveness(clock);
    engine = new RolloutEngine(new RolloutStore(jdbc), deploymentStore, payloads, desired, ingest, liveness, clock,
        new RolloutViews(liveness, List::of));
    engine.addListener(step -> steps.add(step.kind() + " " + step.host()));
    deployments = new Deployments(jdbc, deploymentStore, payloads, desired, hosts, clock, engine);
    online.forEach(host -> liveness.reported(host, HostReport.getDefaultInstance()));
  }

  /** Proves max_parallel 1 moves one host at a time, each only after it ran healthy for min_healthy_time. */
  @Test
  void movesOneHostAtATimeWhileTheOthersKeepTheOldVersion() {
    runningV1On("a", "b", "c");
    deploy(v2, RolloutStrategy.getDefaultInstance());
    assertDesired(v2, v1, v1); // the first batch moves with the change
    round();
    assertDesired(v2, v1, v1);
    report("a", v2, true);
    round();
    advance(Duration.ofSeconds(9));
    round();
    assertDesired(v2, v1, v1); // healthy for 9 s of the 10 s asked
    advance(Duration.ofSeconds(1));
    round();
    assertDesired(v2, v2, v1);
    report("b", v2, true);
    round();
    advance(Duration.ofSeconds(10));
    round();
    assertDesired(v2, v2, v2);
    report("c", v2, true);
    round();
    advance(Duration.ofSeconds(10));
    round();
    Rollout done = engine.latest(NAME).orElseThrow();
    assertEquals(Phase.SUCCEEDED, done.phase());
    assertEquals(List.of(1, 2, 3), done.hosts().stream().map(RolloutHostEntry::batch).toList());
    assertEquals(List.of("BATCH_STARTED ", "BATCH_STARTED ", "HOST_HEALTHY a", "BATCH_STARTED ",
        "HOST_HEALTHY b", "BATCH_STARTED ", "HOST_HEALTHY c", "SUCCEEDED "), steps);
  }

  /** Proves a host that stops being healthy starts its min_healthy_time over. */
  @Test
  void unhealthyReportRestartsTheHealthyWindow() {
    runningV1On("a", "b");
    deploy(v2, RolloutStrategy.getDefaultInstance());
    round();
    report("a", v2, true);
    round();
    advance(Duration.ofSeconds(8));
    report("a", v2, false);
    round();
    report("a", v2, true);
    advance(Duration.ofSeconds(1));
    round();
    advance(Duration.ofSeconds(9));
    round();
    assertDesired(v2, v1); // 9 s healthy since the dip
    advance(Duration.ofSeconds(1));
    round();
    assertDesired(v2, v2);
  }

  /** Proves canaries go first and the rest waits for promote, unless auto_promote. */
  @Test
  void canaryWaitsForPromotion() {
    runningV1On("a", "b", "c");
    deploy(v2, RolloutStrategy.newBuilder().setCanary(1).setMaxParallel(2).build());
    round();
    assertDesired(v2, v1, v1);
    report("a", v2, true);
    round();
    advance(Duration.ofSeconds(10));
    round();
    assertEquals(Phase.AWAITING_PROMOTION, engine.latest(NAME).orElseThrow().phase());
    advance(Duration.ofHours(1));
    round();
    assertDesired(v2, v1, v1); // no deadline while waiting for an operator
    engine.promote(NAME);
    round();
    assertDesired(v2, v2, v2); // then the rest, max_parallel 2 at a time
    Rollout r = engine.latest(NAME).orElseThrow();
    assertEquals(Phase.RUNNING, r.phase());
    assertTrue(r.host("a").canary());
    assertEquals(List.of(1, 2, 2), r.hosts().stream().map(RolloutHostEntry::batch).toList());
  }

  /**
   * Proves a host that evicted a damaged cache entry of the new version and fetched it again
   * does not fail the rollout, while a real refusal of the same version does.
   */
  @Test
  void anEvictedCacheEntryDoesNotFailTheRolloutButARefusalDoes() {
    runningV1On("a");
    deploy(v2, RolloutStrategy.getDefaultInstance());
    round();
    assertDesired(v2);
    advance(Duration.ofSeconds(1));
    ingest.agentReported("a", heartbeat(v1, true).toBuilder().addEvents(HostEvent.newBuilder()
        .setKind(EventKind.EVENT_KIND_PAYLOAD_REJECTED).setDeployment(NAME)
        .setReason(RolloutEngine.CACHE_ENTRY_EVICTED)
        .setMessage("cache entry failed verification and was evicted; fetched again: cached and verified")
        .setPayload(PayloadRef.newBuilder().setSha256(v2))).build());
    round();
    assertEquals(Phase.RUNNING, engine.latest(NAME).orElseThrow().phase());
    assertDesired(v2);
    advance(Duration.ofSeconds(1));
    ingest.agentReported("a", heartbeat(v1, true).toBuilder().addEvents(HostEvent.newBuilder()
        .setKind(EventKind.EVENT_KIND_PAYLOAD_REJECTED).setDeployment(NAME)
        .setReason("PAYLOAD_REJECTED_DECRYPT_FAILED").setMessage("authentication tag mismatch")
        .setPayload(PayloadRef.newBuilder().setSha256(v2))).build());
    round();
    assertTrue(engine.latest(NAME).orElseThrow().phase() != Phase.RUNNING,
        "a refused version ends the rollout");
  }

  /**
   * Proves a canary that rolls back fails the rollout: the other hosts are never moved, the
   * canary gets the last version healthy everywhere (same sequence: hosts on it restart nothing),
   * and the rollout records why.
   */
  @Test
  void rolledBackCanaryRevertsAndNoOtherHostIsMoved() {
    runningV1On("a", "b");
    long v1Sequence = deploymentStore.find(NAME).orElseThrow().sequence();
    var v1Entry = desired.find("b", NAME).orElseThrow();
    deploy(v2, RolloutStrategy.newBuilder().setCanary(1).setAutoPromote(true).build());
    round();
    assertDesired(v2, v1);
    advance(Duration.ofSeconds(3));
    ingest.agentReported("a", heartbeat(v1, true).toBuilder().addEvents(HostEvent.newBuilder()
        .setKind(EventKind.EVENT_KIND_ROLLED_BACK).setDeployment(NAME).setReason("DEPLOY_FAILURES")
        .setMessage("rolled back from " + v2 + " to last known good " + v1)
        .setPayload(PayloadRef.newBuilder().setSha256(v1))).build());
    round();
    Rollout r = engine.latest(NAME).orElseThrow();
    assertEquals(Phase.REVERTED, r.phase());
    assertEquals(HostPhase.REVERTED, r.host("a").phase());
    assertEquals(HostPhase.PENDING, r.host("b").phase());
    assertTrue(r.reason().startsWith("host a failed v2: rolled back (DEPLOY_FAILURES)"), r.reason());
    assertTrue(r.reason().endsWith("reverted a to v1"), r.reason());
    var record = deploymentStore.find(NAME).orElseThrow();
    assertEquals(v1, record.payloadSha256());
    assertEquals(v1Sequence, record.sequence());
    assertEquals(v1Entry, desired.find("a", NAME).orElseThrow());
    assertEquals(v1Entry, desired.find("b", NAME).orElseThrow());
    advance(Duration.ofHours(1));
    round();
    assertEquals(Phase.REVERTED, engine.latest(NAME).orElseThrow().phase());
    assertDesired(v1, v1);
    // Reverted: nobody is held back any more, so a restart reaches every host.
    assertTrue(engine.heldBack(NAME, "b").isEmpty());
    deployments.restart(NAME);
    assertEquals(v1Entry.getGeneration() + 1, desired.find("b", NAME).orElseThrow().getGeneration());
    assertEquals(v1Entry.getGeneration() + 1, desired.find("a", NAME).orElseThrow().getGeneration());
  }

  /**
   * Proves a version whose own rollout was superseded before it could succeed still counts as
   * healthy everywhere when every host reports it so: a failure goes back to it.
   */
  @Test
  void versionEveryHostRunsHealthyIsARevertTarget() {
    runningV1On("a");
    deploy(v2, RolloutStrategy.getDefaultInstance());
    report("a", v2, true); // healthy, but not yet for min_healthy_time
    String v3 = payload("v3");
    deploy(v3, RolloutStrategy.newBuilder().setHealthyDeadline(proto(Duration.ofMinutes(1))).build());
    assertEquals("v2", engine.latest(NAME).orElseThrow().revertTo().label());
    advance(Duration.ofMinutes(2));
    round();
    assertEquals(Phase.REVERTED, engine.latest(NAME).orElseThrow().phase());
    assertDesired(v2);
  }

  /** Proves a moved host that is not healthy within healthy_deadline fails the rollout. */
  @Test
  void hostPastHealthyDeadlineFailsTheRollout() {
    runningV1On("a", "b");
    deploy(v2, RolloutStrategy.newBuilder().setHealthyDeadline(proto(Duration.ofMinutes(1))).build());
    round();
    report("a", v2, false);
    advance(Duration.ofSeconds(59));
    round();
    assertEquals(Phase.RUNNING, engine.latest(NAME).orElseThrow().phase());
    advance(Duration.ofSeconds(1));
    round();
    Rollout r = engine.latest(NAME).orElseThrow();
    assertEquals(Phase.REVERTED, r.phase());
    assertTrue(r.reason().contains("not healthy within healthy_deadline 1m (reports: v2, api running/unhealthy)"),
        r.reason());
    assertDesired(v1, v1);
  }

  /** Proves without auto_revert the moved host keeps the new version and nothing else moves. */
  @Test
  void failedRolloutWithoutAutoRevertKeepsWhereItStood() {
    runningV1On("a", "b");
    deploy(v2, RolloutStrategy.newBuilder().setAutoRevert(false).build());
    round();
    ingest.agentReported("a", heartbeat(v2, true).toBuilder().clearServices().addServices(ServiceStatus
        .newBuilder().setName("api").setState(ServiceState.SERVICE_STATE_FAILED).setReason("8 restarts")).build());
    round();
    Rollout r = engine.latest(NAME).orElseThrow();
    assertEquals(Phase.FAILED, r.phase());
    assertTrue(r.reason().contains("service api FAILED: 8 restarts"), r.reason());
    assertEquals(v2, deploymentStore.find(NAME).orElseThrow().payloadSha256());
    advance(Duration.ofHours(1));
    round();
    assertDesired(v2, v1);
  }

  /** Proves pause freezes the rollout (no move, no deadline) and resume continues it. */
  @Test
  void pauseFreezesAndResumeContinues() {
    runningV1On("a", "b");
    deploy(v2, RolloutStrategy.newBuilder().setHealthyDeadline(proto(Duration.ofMinutes(1))).build());
    round();
    deployments.pause(NAME);
    report("a", v2, true);
    round();
    advance(Duration.ofMinutes(5));
    round();
    assertDesired(v2, v1);
    assertEquals(Phase.RUNNING, engine.latest(NAME).orElseThrow().phase());
    assertNull(engine.latest(NAME).orElseThrow().host("a").healthySince());
    deployments.resume(NAME);
    round();
    advance(Duration.ofSeconds(10));
    round();
    assertDesired(v2, v2);
  }

  /** Proves an offline host is never moved; the rollout waits and goes on when it reports. */
  @Test
  void offlineHostIsNeverMoved() {
    runningV1On("a", "b");
    online.remove("a");
    advance(Duration.ofMinutes(1)); // "a" missed its report intervals
    deploy(v2, RolloutStrategy.getDefaultInstance());
    round();
    assertDesired(v1, v2);
    report("b", v2, true);
    round();
    advance(Duration.ofSeconds(10));
    round();
    advance(Duration.ofMinutes(10));
    round();
    assertDesired(v1, v2);
    Rollout waiting = engine.latest(NAME).orElseThrow();
    assertEquals(Phase.RUNNING, waiting.phase());
    assertEquals("offline: waits until it reports", waiting.host("a").detail());
    online.add("a");
    advance(Duration.ofSeconds(1));
    round();
    assertDesired(v2, v2);
  }

  /** Proves a host the deployment stops targeting mid-rollout leaves it, also on disk. */
  @Test
  void hostNoLongerTargetedLeavesTheRollout() throws Exception {
    runningV1On("a", "b", "c");
    deploy(v2, RolloutStrategy.getDefaultInstance());
    deployments.put(new Deployments.PutRequest(NAME, v2, List.of("a", "b"), Map.of(), false, List.of(), 0,
        RolloutStrategy.getDefaultInstance(), OPERATOR));
    round();
    assertEquals(List.of("a", "b"), engine.latest(NAME).orElseThrow().hosts().stream()
        .map(RolloutHostEntry::host).toList());
    shutDown();
    open();
    assertEquals(List.of("a", "b"), engine.latest(NAME).orElseThrow().hosts().stream()
        .map(RolloutHostEntry::host).toList());
  }

  /** Proves deleting a deployment ends its rollout: nothing is held back and the failure is over. */
  @Test
  void deletedDeploymentEndsItsRollout() {
    runningV1On("a", "b");
    deploy(v2, RolloutStrategy.getDefaultInstance());
    deployments.delete(NAME);
    round();
    assertEquals(Phase.SUPERSEDED, engine.latest(NAME).orElseThrow().phase());
    assertEquals("deployment deleted", engine.latest(NAME).orElseThrow().reason());
    round();
    assertTrue(engine.latest(NAME).isEmpty());
    assertTrue(engine.heldBack(NAME, "b").isEmpty());
    assertEquals(List.of("BATCH_STARTED ", "BATCH_STARTED ", "FAILED ", "DELETED "), steps);
  }

  /** Proves a control plane started again over the same database resumes the rollout where it was. */
  @Test
  void restartResumesTheRollout() throws Exception {
    runningV1On("a", "b");
    deploy(v2, RolloutStrategy.getDefaultInstance());
    round();
    report("a", v2, true);
    round();
    shutDown(); // the database closed as by a kill: what is on disk is all there is
    open(); // a new control plane over the same files: nothing in memory survives
    desired.recomputeAll();
    assertDesired(v2, v1);
    report("a", v2, true);
    round();
    advance(Duration.ofSeconds(10));
    round();
    assertDesired(v2, v2);
    assertEquals(2, engine.latest(NAME).orElseThrow().batch());
  }

  /** Proves rollback goes to the last version healthy everywhere and refuses a failed one unless forced. */
  @Test
  void rollbackSkipsFailedVersionsUnlessForced() {
    runningV1On("a");
    deploy(v2, RolloutStrategy.getDefaultInstance());
    round();
    report("a", v2, true);
    round();
    advance(Duration.ofSeconds(10));
    round();
    assertEquals(Phase.SUCCEEDED, engine.latest(NAME).orElseThrow().phase());
    String v3 = payload("v3");
    deploy(v3, RolloutStrategy.getDefaultInstance());
    round();
    advance(Duration.ofMinutes(6));
    round();
    assertEquals(Phase.REVERTED, engine.latest(NAME).orElseThrow().phase());
    assertEquals(v2, deploymentStore.find(NAME).orElseThrow().payloadSha256());
    var back = deployments.rollback(NAME, "", false, OPERATOR);
    assertEquals(v1, back.payloadSha256(), "the last version healthy everywhere other than the current one");
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> deployments.rollback(NAME, "v3", false, OPERATOR));
    assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().contains("failed its rollout"), refused.toString());
    assertEquals(v3, deployments.rollback(NAME, "v3", true, OPERATOR).payloadSha256());
    List<String> history = engine.history(NAME, 10).stream()
        .map(r -> r.origin() + " " + r.target().label() + " " + r.phase()).toList();
    assertEquals(List.of("rollback v3 RUNNING", "rollback v1 SUPERSEDED", "deploy v3 REVERTED",
        "deploy v2 SUCCEEDED", "deploy v1 SUCCEEDED"), history);
  }

  /**
   * Proves a replica about to lead sees, after a reload, the rollout another replica started (a
   * deploy it answered), and that a deleted deployment's rollout ends and is announced once.
   */
  @Test
  void reloadPicksUpRolloutsAnotherReplicaStartedAndEnds() {
    runningV1On("a", "b");
    // The other replica: its own engine and desired states over the same database.
    Jdbc jdbc = new Jdbc(dataSource);
    HostLiveness otherLiveness = new HostLiveness(clock);
    DesiredStates otherDesired = new DesiredStates(jdbc, new HostStore(jdbc), new DeploymentStore(jdbc),
        new PayloadStore(jdbc), clock);
    RolloutEngine other = new RolloutEngine(new RolloutStore(jdbc), new DeploymentStore(jdbc), new PayloadStore(jdbc),
        otherDesired, new ReportIngest(clock, new HostEventMarks(dataSource, clock)), otherLiveness, clock,
        new RolloutViews(otherLiveness, List::of));
    List<String> otherSteps = new ArrayList<>();
    other.addListener(step -> otherSteps.add(step.kind() + " " + step.host()));
    long v1Rollout = other.latest(NAME).orElseThrow().id();

    deploy(v2, RolloutStrategy.getDefaultInstance()); // answered by this replica
    assertEquals(v1Rollout, other.latest(NAME).orElseThrow().id(), "nothing tells the other replica but the store");
    other.reload();
    assertEquals(engine.latest(NAME).orElseThrow().id(), other.latest(NAME).orElseThrow().id());
    assertEquals(v2, other.latest(NAME).orElseThrow().target().sha256());

    deployments.delete(NAME);
    other.reload(); // kept: its end is still to be announced
    other.tick();
    assertEquals(Phase.SUPERSEDED, other.latest(NAME).orElseThrow().phase());
    other.reload();
    other.tick();
    other.reload();
    other.tick();
    assertTrue(other.latest(NAME).isEmpty());
    assertEquals(List.of("FAILED ", "DELETED "), otherSteps);
  }

  private void runningV1On(String... names) {
    for (String name : names) {
      hosts.upsert(name, "spiffe://test/host/" + name, Map.of(), new byte[] {1}, clock.instant());
      online.add(name);
    }
    advance(Duration.ZERO);
    deploy(v1, RolloutStrategy.getDefaultInstance());
    for (String name : names) {
      report(name, v1, true);
    }
    round();
    advance(Duration.ofSeconds(10));
    round();
    assertEquals(Phase.SUCCEEDED, engine.latest(NAME).orElseThrow().phase(), "a first version goes everywhere");
    steps.clear();
  }

  private void deploy(String sha, RolloutStrategy strategy) {
    var existing = deploymentStore.find(NAME);
    List<String> targets = existing.map(DeploymentStore.DeploymentRecord::hosts).orElse(List.copyOf(online));
    deployments.put(new Deployments.PutRequest(NAME, sha, targets, Map.of(), false, List.of(), 0, strategy,
        OPERATOR));
  }

  private void round() {
    engine.tick();
  }

  private void advance(Duration by) {
    clock.advance(by);
    online.forEach(host -> liveness.reported(host, HostReport.getDefaultInstance()));
  }

  private void report(String host, String sha, boolean healthy) {
    ingest.agentReported(host, heartbeat(sha, healthy));
  }

  private static HeartbeatRequest heartbeat(String sha, boolean healthy) {
    return HeartbeatRequest.newBuilder().setDeployment(NAME)
        .setPayload(PayloadRef.newBuilder().setSha256(sha))
        .addServices(ServiceStatus.newBuilder().setName("api").setState(ServiceState.SERVICE_STATE_RUNNING)
            .setHealth(healthy ? HealthStatus.HEALTH_STATUS_HEALTHY : HealthStatus.HEALTH_STATUS_UNHEALTHY))
        .build();
  }

  private void assertDesired(String... shas) {
    List<String> names = hosts.list().stream().map(HostStore.HostRecord::name).sorted().toList();
    List<String> actual = names.stream()
        .map(host -> desired.find(host, NAME).map(a -> label(a.getPayload().getSha256())).orElse("none"))
        .toList();
    assertEquals(List.of(shas).stream().map(this::label).toList(), actual);
  }

  private String label(String sha) {
    return payloads.find(sha).map(PayloadStore.PayloadRecord::versionLabel).orElse(sha);
  }

  private String payload(String label) {
    try {
      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(label.getBytes(StandardCharsets.UTF_8)));
      payloads.insertIfAbsent(new PayloadStore.PayloadRecord(sha, 10, 10, 65536, new byte[12], new byte[48],
          label, List.of("api=1"), OPERATOR, clock.instant()));
      return sha;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static com.google.protobuf.Duration proto(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).build();
  }
}
