package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.replica.HostPresence;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.proto.v1.AgentStatus;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.GetStatusRequest;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.Host;
import io.infraveil.proto.v1.HostConnection;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.PutDeploymentRequest;
import io.infraveil.proto.v1.RevokeHostRequest;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.SyncResponse;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three control planes on one database, with hosts holding real Sync streams over mTLS: a
 * change made through one replica reaches the streams another holds, a revocation cuts them,
 * a change whose notification never came is still delivered, and every replica answers status
 * alike. Run against each engine by a subclass.
 */
abstract class ReplicaChangesContract {

  @TempDir Path dir;
  OpsHarness a;
  OpsHarness b;
  OpsHarness c;

  /** Datasource (and replication) properties of one database the three replicas share. */
  abstract Map<String, Object> sharedDatabase() throws Exception;

  /** How long a change may take to reach the other replicas on this engine. */
  abstract Duration propagationBound();

  /** Tests about the leader's rules: reports every second, presence and rules several times as often. */
  static final String FAST_REPORTS = "fast-reports";
  static final Duration REPORT_INTERVAL = Duration.ofSeconds(1);

  @BeforeEach
  void startReplicas(TestInfo test) throws Exception {
    Map<String, Object> database = new java.util.HashMap<>(sharedDatabase());
    if (test.getTags().contains(FAST_REPORTS)) {
      database.put("infraveil.report-interval", REPORT_INTERVAL.toMillis() + "ms");
      database.put("infraveil.incident-check-interval", "100ms");
      database.put("infraveil.rollout-interval", "100ms");
      database.put("infraveil.replication.presence-interval", "200ms");
    }
    a = new OpsHarness(dir, "a", database);
    b = new OpsHarness(dir, "b", database);
    c = new OpsHarness(dir, "c", database);
  }

  @AfterEach
  void stopReplicas() throws Exception {
    for (OpsHarness replica : new OpsHarness[] {c, b, a}) {
      if (replica != null) {
        replica.close();
      }
    }
  }

  /** A launcher's Sync stream, said hello and answered. */
  record SyncStream(LinkedBlockingQueue<Object> received, StreamObserver<SyncRequest> requests) {

    DesiredState awaitDesired(Predicate<DesiredState> wanted, Duration max) throws Exception {
      long deadline = System.nanoTime() + max.toNanos();
      while (System.nanoTime() < deadline) {
        Object next = received.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (next instanceof SyncResponse response && response.hasDesired() && wanted.test(response.getDesired())) {
          return response.getDesired();
        }
        if (next instanceof Throwable t) {
          throw new AssertionError("the Sync stream ended while waiting for a desired state", t);
        }
      }
      throw new AssertionError("no matching desired state within " + max);
    }
  }

  SyncStream syncOn(OpsHarness replica, OpsHarness.EnrolledHost host) throws Exception {
    LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    StreamObserver<SyncRequest> requests = replica.sync(host, received);
    Object first = received.poll(20, TimeUnit.SECONDS);
    assertTrue(first instanceof SyncResponse response && response.hasAccepted(),
        "the hello should be answered first, got " + first);
    return new SyncStream(received, requests);
  }

  String upload(OpsHarness replica, String version) throws Exception {
    Path app = Files.createTempDirectory(dir, "app");
    Files.writeString(app.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "sleep 1000" ]
        """);
    Files.writeString(app.resolve("VERSION"), version);
    ByteArrayOutputStream archive = new ByteArrayOutputStream();
    PayloadArchive.pack(app, archive);
    return replica.upload(archive.toByteArray(), version, "app").getPayload().getSha256();
  }

  @Test
  void aDeployThroughOneReplicaReachesTheStreamAnotherHolds() throws Exception {
    OpsHarness.EnrolledHost web1 = a.enroll("web-1");
    SyncStream onC = syncOn(c, web1);
    // A rollout moves only hosts the deciding replica sees online; a host that connected to c a
    // moment ago is not in a's view until the next presence round, and would then be moved by
    // the leader's next rollout round instead. Measure the steady state: a knows the host.
    var onA = a.controlPlane.bean(io.infraveil.controlplane.hosts.HostLiveness.class);
    long seenBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (onA.connection("web-1") != io.infraveil.proto.v1.HostConnection.HOST_CONNECTION_ONLINE
        && System.nanoTime() < seenBy) {
      Thread.sleep(20);
    }
    assertEquals(io.infraveil.proto.v1.HostConnection.HOST_CONNECTION_ONLINE, onA.connection("web-1"),
        "replica a should learn from the presence table that web-1 is online on c");
    List<Long> millis = new ArrayList<>();
    for (int version = 1; version <= 5; version++) {
      String sha = upload(a, "v" + version);
      long start = System.nanoTime();
      a.operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello").setPayloadSha256(sha)
          .addHosts("web-1").build());
      DesiredState desired = onC.awaitDesired(state -> state.getAgentsCount() == 1
          && state.getAgents(0).getPayload().getSha256().equals(sha), Duration.ofSeconds(20));
      millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      assertEquals("hello", desired.getAgents(0).getDeployment());
      onC.requests().onNext(SyncRequest.newBuilder().setAck(io.infraveil.proto.v1.DesiredStateAck.newBuilder()
          .setRevision(desired.getRevision())).build());
    }
    List<Long> sorted = new ArrayList<>(millis);
    Collections.sort(sorted);
    System.out.println("replica_propagation engine=" + getClass().getSimpleName()
        + " deploy_on_a_to_stream_on_c_ms=" + millis + " median=" + sorted.get(sorted.size() / 2)
        + " max=" + sorted.get(sorted.size() - 1));
    assertTrue(sorted.get(sorted.size() - 1) <= propagationBound().toMillis(),
        "every deploy should reach the stream on replica c within " + propagationBound() + ": " + millis);
  }

  @Test
  void watchersOfEveryReplicaSeeAChangeMadeOnAnother() throws Exception {
    a.enroll("web-6");
    a.deploy("hello", "v1", "web-6");
    LinkedBlockingQueue<io.infraveil.proto.v1.WatchResponse> onC = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<io.infraveil.proto.v1.WatchResponse> onB = new LinkedBlockingQueue<>();
    c.controlPlane.bean(io.infraveil.controlplane.ops.WatchHub.class).subscribe(onC::add);
    b.controlPlane.bean(io.infraveil.controlplane.ops.WatchHub.class).subscribe(onB::add);
    b.operator().pauseDeployment(io.infraveil.proto.v1.PauseDeploymentRequest.newBuilder().setName("hello").build());
    io.infraveil.proto.v1.WatchResponse seen = awaitEvent(onC, event -> event.getText().contains("paused by"));
    assertEquals("hello", seen.getDeployment());
    assertEquals("deployment", seen.getTopic());
    awaitEvent(onB, event -> event.getText().contains("paused by"));
    Thread.sleep(propagationBound().toMillis() + 500); // long enough for the feed to bring it back
    assertEquals(null, onB.stream().filter(event -> event.getText().contains("paused by")).skip(1).findAny()
        .orElse(null), "the replica that made the change announces it once");
  }

  static io.infraveil.proto.v1.WatchResponse awaitEvent(LinkedBlockingQueue<io.infraveil.proto.v1.WatchResponse> queue,
      Predicate<io.infraveil.proto.v1.WatchResponse> wanted) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      var next = queue.poll(100, TimeUnit.MILLISECONDS);
      if (next != null && wanted.test(next)) {
        return next;
      }
    }
    throw new AssertionError("no matching Watch event");
  }

  @Test
  void aRevocationThroughOneReplicaClosesTheStreamAnotherHolds() throws Exception {
    OpsHarness.EnrolledHost web2 = a.enroll("web-2");
    SyncStream onC = syncOn(c, web2);
    long start = System.nanoTime();
    b.operator().revokeHost(RevokeHostRequest.newBuilder().setHostName("web-2").setReason("lost laptop").build());
    Object ended = onC.received().poll(20, TimeUnit.SECONDS);
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    System.out.println("replica_propagation engine=" + getClass().getSimpleName()
        + " revoke_on_b_to_stream_closed_on_c_ms=" + millis);
    StatusRuntimeException closed = assertInstanceOf(StatusRuntimeException.class, ended);
    assertEquals(Status.Code.PERMISSION_DENIED, closed.getStatus().getCode());
    assertTrue(closed.getStatus().getDescription().contains("web-2 was revoked"), closed.getStatus().getDescription());
    assertTrue(millis <= propagationBound().toMillis(), "closed after " + millis + " ms");

    // The certificate is refused on c from now on, at the interceptor, like on b.
    String serial = web2.credential().certificate().getSerialNumber().toString(16);
    assertTrue(c.controlPlane.bean(ServerPki.class).revocations().isRevoked(serial));
    LinkedBlockingQueue<Object> again = new LinkedBlockingQueue<>();
    c.sync(web2, again);
    StatusRuntimeException refused = assertInstanceOf(StatusRuntimeException.class, again.poll(20, TimeUnit.SECONDS));
    assertEquals(Status.Code.PERMISSION_DENIED, refused.getStatus().getCode());
  }

  @Test
  void aChangeWhoseNotificationNeverCameIsReadByPolling() throws Exception {
    OpsHarness.EnrolledHost web4 = a.enroll("web-4");
    SyncStream onC = syncOn(c, web4);
    a.operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello")
        .setPayloadSha256(upload(a, "v1")).addHosts("web-4").build());
    DesiredState before = onC.awaitDesired(state -> state.getAgentsCount() == 1, Duration.ofSeconds(20));

    // What a writer does, minus the notification: the stored state and its change_log row.
    DesiredState after = before.toBuilder().setRevision(before.getRevision() + 1)
        .putHostLabels("written-by", "test").build();
    inDatabase(connection -> {
      try (PreparedStatement s = connection.prepareStatement(
          "UPDATE hosts SET desired_revision = ?, desired_state = ? WHERE name = ?")) {
        s.setLong(1, after.getRevision());
        s.setBytes(2, after.toByteArray());
        s.setString(3, "web-4");
        assertEquals(1, s.executeUpdate());
      }
      try (PreparedStatement s = connection.prepareStatement("INSERT INTO change_log (kind, subject, origin,"
          + " created_at) VALUES ('DESIRED_STATE', 'web-4', 'test', CURRENT_TIMESTAMP)")) {
        s.executeUpdate();
      }
    });
    long start = System.nanoTime();
    DesiredState pushed = onC.awaitDesired(state -> state.getRevision() == after.getRevision(),
        Duration.ofSeconds(20));
    System.out.println("replica_propagation engine=" + getClass().getSimpleName()
        + " unnotified_change_to_stream_on_c_ms=" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    assertEquals("test", pushed.getHostLabelsOrThrow("written-by"));
  }

  // A writer whose wider transaction commits after its change was read: the replica finds an
  // older revision, looks again, and pushes once the state is there.
  @Test
  void aChangeThatOutranItsCommitIsPushedOnceTheStateIsStored() throws Exception {
    OpsHarness.EnrolledHost web7 = a.enroll("web-7");
    SyncStream onC = syncOn(c, web7);
    a.operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello")
        .setPayloadSha256(upload(a, "v1")).addHosts("web-7").build());
    DesiredState before = onC.awaitDesired(state -> state.getAgentsCount() == 1, Duration.ofSeconds(20));
    DesiredState after = before.toBuilder().setRevision(before.getRevision() + 1)
        .putHostLabels("written-by", "late-commit").build();

    var feedOfC = c.controlPlane.bean(io.infraveil.controlplane.replica.ChangeFeed.class);
    long heardBefore = feedOfC.delivered();
    inDatabase(connection -> {
      try (PreparedStatement s = connection.prepareStatement("INSERT INTO change_log (kind, subject, detail, origin,"
          + " created_at) VALUES ('DESIRED_STATE', 'web-7', ?, 'test', CURRENT_TIMESTAMP)")) {
        s.setString(1, Long.toString(after.getRevision()));
        s.executeUpdate();
      }
    });
    awaitTrue(() -> feedOfC.delivered() > heardBefore, "replica c should read the change");
    Thread.sleep(200); // and look for the revision at least once more
    inDatabase(connection -> {
      try (PreparedStatement s = connection.prepareStatement(
          "UPDATE hosts SET desired_revision = ?, desired_state = ? WHERE name = ?")) {
        s.setLong(1, after.getRevision());
        s.setBytes(2, after.toByteArray());
        s.setString(3, "web-7");
        assertEquals(1, s.executeUpdate());
      }
    });
    DesiredState pushed = onC.awaitDesired(state -> state.getRevision() == after.getRevision(),
        Duration.ofSeconds(5));
    assertEquals("late-commit", pushed.getHostLabelsOrThrow("written-by"));
  }

  /** Work on the shared database in one committed transaction, as another writer would. */
  void inDatabase(SqlWork work) throws Exception {
    Map<String, Object> database = sharedDatabase();
    try (Connection connection = DriverManager.getConnection((String) database.get("datasources.default.url"),
        (String) database.getOrDefault("datasources.default.username", "sa"),
        (String) database.getOrDefault("datasources.default.password", ""))) {
      connection.setAutoCommit(false);
      work.run(connection);
      connection.commit();
    }
  }

  @FunctionalInterface
  interface SqlWork {
    void run(Connection connection) throws Exception;
  }

  @Test
  void everyReplicaAnswersStatusAlike() throws Exception {
    OpsHarness.EnrolledHost web3 = a.enroll("web-3");
    a.deploy("hello", "v1", "web-3");
    SyncStream stream = syncOn(c, web3);
    stream.requests().onNext(SyncRequest.newBuilder().setReport(HostReport.newBuilder()
        .addAgents(AgentStatus.newBuilder().setDeployment("hello"))).build());
    LinkedBlockingQueue<ReportIngest.AgentReport> heardOnA = new LinkedBlockingQueue<>();
    a.controlPlane.bean(ReportIngest.class).addListener(new ReportIngest.Listener() {
      @Override
      public void agentReportedElsewhere(ReportIngest.AgentReport report) {
        heardOnA.add(report);
      }
    });
    b.heartbeat(web3, HeartbeatRequest.newBuilder().setHostName("web-3").setDeployment("hello").build());

    Host onC = awaitHost(c, "web-3", host -> host.getConnection() == HostConnection.HOST_CONNECTION_ONLINE
        && host.getAgentsCount() == 1);
    // a shows what c shows (a second or two later at most): online, the same report, received at the same instant.
    Host onA = awaitHost(a, "web-3", host -> host.getLastReportAt().equals(onC.getLastReportAt()));
    assertEquals(onC, onA);
    assertEquals(onC, awaitHost(b, "web-3", host -> host.getLastReportAt().equals(onC.getLastReportAt())));
    assertEquals(1, a.controlPlane.bean(HostPresence.class).hostsHeldBy("c"));
    assertEquals(0, a.controlPlane.bean(HostPresence.class).hostsHeldBy("a"));

    // The agent reported to b; a and c know its heartbeat too.
    for (OpsHarness replica : List.of(a, c)) {
      awaitTrue(() -> replica.controlPlane.bean(ReportIngest.class).agent("web-3", "hello").isPresent(),
          "replica " + replica + " should know the heartbeat the agent sent to b");
    }
    assertEquals(HostConnection.HOST_CONNECTION_ONLINE,
        b.controlPlane.bean(HostLiveness.class).connection("web-3"));
    ReportIngest.AgentReport heard = heardOnA.poll(20, TimeUnit.SECONDS);
    assertTrue(heard != null && heard.host().equals("web-3"), "a's listeners hear the heartbeat b received: " + heard);
  }

  Host awaitHost(OpsHarness replica, String name, Predicate<Host> wanted) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    Host last = null;
    while (System.nanoTime() < deadline) {
      for (Host host : replica.operator().getStatus(GetStatusRequest.getDefaultInstance()).getHostsList()) {
        if (host.getName().equals(name)) {
          last = host;
          if (wanted.test(host)) {
            return host;
          }
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("host " + name + " never matched; last seen: " + last);
  }

  static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(what);
  }

  // ---- The leader's rules and rollout rounds hear hosts held by every replica ----

  OpsHarness awaitLeader() throws Exception {
    awaitTrue(() -> List.of(a, b, c).stream().filter(OpsHarness::leads).count() == 1, "one replica should lead");
    return List.of(a, b, c).stream().filter(OpsHarness::leads).findFirst().orElseThrow();
  }

  List<OpsHarness> followersOf(OpsHarness leader) {
    return List.of(a, b, c).stream().filter(replica -> replica != leader).toList();
  }

  /** A launcher that keeps reporting on its stream every third of a report interval, until closed. */
  static AutoCloseable keepReporting(SyncStream stream, HostReport report) {
    var reporter = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    reporter.scheduleWithFixedDelay(() -> stream.requests().onNext(SyncRequest.newBuilder().setReport(report).build()),
        0, REPORT_INTERVAL.toMillis() / 3, TimeUnit.MILLISECONDS);
    return () -> {
      reporter.shutdownNow();
      reporter.awaitTermination(5, TimeUnit.SECONDS);
    };
  }

  static List<io.infraveil.proto.v1.Incident> open(OpsHarness replica, String rule, String host) {
    return replica.controlPlane.bean(io.infraveil.controlplane.incidents.Incidents.class).list(true).stream()
        .filter(i -> i.getRule().equals(rule) && i.getHostName().equals(host)).toList();
  }

  static List<io.infraveil.proto.v1.Incident> stored(OpsHarness replica, String rule, String host) {
    return replica.controlPlane.bean(io.infraveil.controlplane.incidents.JdbcIncidentStore.class).load(100).stream()
        .map(s -> s.incident()).filter(i -> i.getRule().equals(rule) && i.getHostName().equals(host)).toList();
  }

  static HeartbeatRequest heartbeat(String host, String deployment, String sha, io.infraveil.proto.v1.ServiceState state,
      io.infraveil.proto.v1.HealthStatus health) {
    return HeartbeatRequest.newBuilder().setHostName(host).setDeployment(deployment)
        .setPayload(io.infraveil.proto.v1.PayloadRef.newBuilder().setSha256(sha))
        .addServices(io.infraveil.proto.v1.ServiceStatus.newBuilder().setName("api").setState(state).setHealth(health)
            .setReason(state == io.infraveil.proto.v1.ServiceState.SERVICE_STATE_FAILED ? "exit status 3" : ""))
        .build();
  }

  static long rulesRun(OpsHarness replica) {
    return replica.controlPlane.bean(io.infraveil.controlplane.replica.Leadership.class)
        .rounds(io.infraveil.controlplane.replica.Leadership.INCIDENT_RULES);
  }

  @Test
  @Tag(FAST_REPORTS)
  void aHostHeldOnlyByAFollowerOpensItsIncidentsOnTheLeaderOnce() throws Exception {
    OpsHarness leader = awaitLeader();
    OpsHarness follower = followersOf(leader).get(0);
    OpsHarness other = followersOf(leader).get(1);
    Map<OpsHarness, Long> followerRounds = Map.of(follower, rulesRun(follower), other, rulesRun(other));
    OpsHarness.EnrolledHost web8 = leader.enroll("web-8");
    String sha = leader.deploy("hello", "v1", "web-8");
    SyncStream stream = syncOn(follower, web8);
    try (AutoCloseable reporting = keepReporting(stream, HostReport.newBuilder()
        .addAgents(AgentStatus.newBuilder().setDeployment("hello")).build())) {
      // The agent reports to the follower only: its service FAILED, and it rolled back (an event).
      follower.heartbeat(web8, heartbeat("web-8", "hello", sha, io.infraveil.proto.v1.ServiceState.SERVICE_STATE_FAILED,
          io.infraveil.proto.v1.HealthStatus.HEALTH_STATUS_UNHEALTHY).toBuilder()
          .addEvents(io.infraveil.proto.v1.HostEvent.newBuilder().setKind(io.infraveil.proto.v1.EventKind.EVENT_KIND_ROLLED_BACK)
              .setDeployment("hello").setReason("health check failed").setInstanceId("agent-web-8").setSequence(1))
          .build());
      awaitTrue(() -> open(leader, "SERVICE_FAILED", "web-8").size() == 1
          && open(leader, "ROLLED_BACK", "web-8").size() == 1,
          "the leader should open SERVICE_FAILED and ROLLED_BACK for a host held by a follower");
      // The same state through the other follower, and time for every replica to hear all of it.
      other.heartbeat(web8, heartbeat("web-8", "hello", sha, io.infraveil.proto.v1.ServiceState.SERVICE_STATE_FAILED,
          io.infraveil.proto.v1.HealthStatus.HEALTH_STATUS_UNHEALTHY));
      Thread.sleep(3 * REPORT_INTERVAL.toMillis());
      for (String rule : List.of("SERVICE_FAILED", "ROLLED_BACK")) {
        List<io.infraveil.proto.v1.Incident> inStore = stored(leader, rule, "web-8");
        assertEquals(1, inStore.size(), rule + " opened exactly once: " + inStore);
        String id = inStore.get(0).getId();
        assertEquals(List.of(id), open(leader, rule, "web-8").stream().map(i -> i.getId()).toList());
        for (OpsHarness replica : followersOf(leader)) {
          awaitTrue(() -> open(replica, rule, "web-8").stream().map(i -> i.getId()).toList().equals(List.of(id)),
              "follower " + replica + " shows the leader's " + rule + " incident");
        }
      }
      assertEquals(List.of(), stored(leader, "HOST_OFFLINE", "web-8"), "web-8 reports all along");
      assertTrue(leader.leads(), "the leader kept the lease throughout");
      for (OpsHarness replica : followersOf(leader)) {
        assertEquals(followerRounds.get(replica), rulesRun(replica), "follower " + replica + " ran no rules");
      }
    }
  }

  @Test
  @Tag(FAST_REPORTS)
  void aHostThatMovesFromTheLeaderToAFollowerIsNotReportedOffline() throws Exception {
    OpsHarness leader = awaitLeader();
    OpsHarness follower = followersOf(leader).get(0);
    OpsHarness.EnrolledHost web9 = leader.enroll("web-9");
    HostReport report = HostReport.getDefaultInstance();
    SyncStream onLeader = syncOn(leader, web9);
    try (AutoCloseable reporting = keepReporting(onLeader, report)) {
      awaitTrue(() -> leader.controlPlane.bean(HostLiveness.class).connection("web-9")
          == HostConnection.HOST_CONNECTION_ONLINE, "web-9 online on the leader");
    }
    onLeader.requests().onCompleted();
    SyncStream onFollower = syncOn(follower, web9);
    try (AutoCloseable reporting = keepReporting(onFollower, report)) {
      long until = System.nanoTime() + REPORT_INTERVAL.multipliedBy(6).toNanos(); // twice the offline bound
      while (System.nanoTime() < until) {
        assertEquals(List.of(), open(leader, "HOST_OFFLINE", "web-9"), "web-9 moved, it never went offline");
        Thread.sleep(50);
      }
      assertEquals(List.of(), stored(leader, "HOST_OFFLINE", "web-9"));
      assertEquals(HostConnection.HOST_CONNECTION_ONLINE,
          leader.controlPlane.bean(HostLiveness.class).connection("web-9"));
      assertEquals(1, leader.controlPlane.bean(HostPresence.class).hostsHeldBy(follower.toString()));
    }
  }

  @Test
  @Tag(FAST_REPORTS)
  void aRolloutWhoseHostSitsOnAFollowerCompletes() throws Exception {
    OpsHarness leader = awaitLeader();
    OpsHarness follower = followersOf(leader).get(0);
    OpsHarness.EnrolledHost web10 = leader.enroll("web-10");
    var strategy = io.infraveil.proto.v1.RolloutStrategy.newBuilder()
        .setMinHealthyTime(com.google.protobuf.Duration.newBuilder().setNanos(300_000_000))
        .setHealthyDeadline(com.google.protobuf.Duration.newBuilder().setSeconds(60)).build();
    SyncStream stream = syncOn(follower, web10);
    try (AutoCloseable reporting = keepReporting(stream, HostReport.newBuilder()
        .addAgents(AgentStatus.newBuilder().setDeployment("app")).build())) {
      String v2 = null;
      for (String version : List.of("v1", "v2")) {
        String sha = leader.deploy("app", version, strategy, "web-10");
        v2 = sha;
        var rollouts = io.infraveil.proto.v1.RolloutServiceGrpc.newBlockingStub(
            leader.channel(leader.pki.operator("alice"))).withDeadlineAfter(20, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        io.infraveil.proto.v1.Rollout rollout;
        do {
          // The agent reports to the follower: the version it was given runs, healthy.
          follower.heartbeat(web10, heartbeat("web-10", "app", sha, io.infraveil.proto.v1.ServiceState.SERVICE_STATE_RUNNING,
              io.infraveil.proto.v1.HealthStatus.HEALTH_STATUS_HEALTHY));
          Thread.sleep(200);
          rollout = rollouts.getRollout(io.infraveil.proto.v1.GetRolloutRequest.newBuilder().setDeployment("app")
              .build()).getRollout();
        } while (rollout.getState() != io.infraveil.proto.v1.RolloutState.ROLLOUT_STATE_SUCCEEDED
            && System.nanoTime() < deadline);
        assertEquals(io.infraveil.proto.v1.RolloutState.ROLLOUT_STATE_SUCCEEDED, rollout.getState(),
            "the rollout of " + version + " on a host held by a follower: " + rollout);
        assertEquals(sha, rollout.getPayload().getSha256());
      }

      // v3 fails there: the agent rolls back to v2 and says so to the follower alone. Its
      // heartbeat shows v2 healthy, which alone would only wait for the 60 s deadline: the
      // event, shared through the change feed, is what fails the rollout on the leader.
      var rollouts = io.infraveil.proto.v1.RolloutServiceGrpc.newBlockingStub(
          leader.channel(leader.pki.operator("alice")));
      String v3 = leader.deploy("app", "v3", strategy, "web-10");
      awaitTrue(() -> rolloutOn(rollouts).getPayload().getSha256().equals(v3)
          && rolloutOn(rollouts).getHostsList().stream().allMatch(h -> h.getMovedAt().getSeconds() > 0),
          "the rollout of v3 moves web-10");
      follower.heartbeat(web10, heartbeat("web-10", "app", v2, io.infraveil.proto.v1.ServiceState.SERVICE_STATE_RUNNING,
          io.infraveil.proto.v1.HealthStatus.HEALTH_STATUS_HEALTHY).toBuilder()
          .addEvents(io.infraveil.proto.v1.HostEvent.newBuilder().setKind(io.infraveil.proto.v1.EventKind.EVENT_KIND_ROLLED_BACK)
              .setDeployment("app").setPayload(io.infraveil.proto.v1.PayloadRef.newBuilder().setSha256(v3))
              .setReason("DEPLOY_FAILURES").setInstanceId("agent-web-10").setSequence(1))
          .build());
      awaitTrue(() -> rolloutOn(rollouts).getState() == io.infraveil.proto.v1.RolloutState.ROLLOUT_STATE_REVERTED,
          "the leader reverts v3 on the rollback web-10 reported to a follower");
      assertTrue(rolloutOn(rollouts).getReason().contains("rolled back"), rolloutOn(rollouts).getReason());
    }
  }

  static io.infraveil.proto.v1.Rollout rolloutOn(
      io.infraveil.proto.v1.RolloutServiceGrpc.RolloutServiceBlockingStub rollouts) {
    return rollouts.withDeadlineAfter(20, TimeUnit.SECONDS).getRollout(io.infraveil.proto.v1.GetRolloutRequest
        .newBuilder().setDeployment("app").build()).getRollout();
  }
}
