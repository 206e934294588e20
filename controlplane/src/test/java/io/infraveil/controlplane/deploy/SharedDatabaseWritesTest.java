package io.infraveil.controlplane.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.HostStore;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.proto.v1.DesiredState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import io.infraveil.devpostgres.LocalPostgres;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two control planes writing one database, each with its own connections and its own memory:
 * desired revisions are taken by compare-and-set (never reused, no update lost), a deployment
 * write loses to one stored in between with ABORTED, and a change that fails before it commits
 * leaves neither the deployment nor any desired state changed. On H2 and on PostgreSQL.
 */
class SharedDatabaseWritesTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir
  Path dir;

  /** The engines every case runs on: an H2 file, and a real PostgreSQL (dev-postgres). */
  enum Engine { H2, POSTGRESQL }

  private Engine engine;
  private LocalPostgres.Database postgres;

  /** A new data source on the test's database: each replica has its own. */
  private DataSource newDataSource() {
    if (engine == Engine.H2) {
      JdbcDataSource h2 = new JdbcDataSource();
      h2.setURL("jdbc:h2:file:" + dir.toAbsolutePath().resolve("db")
          + ";DB_CLOSE_ON_EXIT=FALSE;DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000");
      h2.setUser("sa");
      return h2;
    }
    PGSimpleDataSource pg = new PGSimpleDataSource();
    pg.setURL(postgres.jdbcUrl());
    pg.setUser(postgres.user());
    pg.setPassword(postgres.password());
    return pg;
  }

  /** One control plane's view of the database: its own data source, stores and caches. */
  private final class Replica {
    final DataSource dataSource = newDataSource();
    final Jdbc jdbc;
    final HostStore hosts;
    final DeploymentStore store;
    final PayloadStore payloads;
    final DesiredStates desired;
    final Deployments deployments;
    final List<DesiredState> heard = java.util.Collections.synchronizedList(new ArrayList<>());

    Replica(Clock clock, RolloutHook hook) {
      migrate(dataSource);
      jdbc = new Jdbc(dataSource);
      hosts = new HostStore(jdbc);
      store = new DeploymentStore(jdbc);
      payloads = new PayloadStore(jdbc);
      desired = new DesiredStates(jdbc, hosts, store, payloads, Clock.fixed(T0, ZoneOffset.UTC));
      desired.useRolloutHook(hook);
      desired.addListener((host, state) -> heard.add(state));
      deployments = new Deployments(jdbc, store, payloads, desired, hosts, clock, hook);
    }
  }

  /** A clock that runs {@code interruption} once, the first time it is read after being armed. */
  private static final class InterruptingClock extends Clock {
    final AtomicReference<Runnable> interruption = new AtomicReference<>();

    @Override
    public Instant instant() {
      Runnable once = interruption.getAndSet(null);
      if (once != null) {
        once.run();
      }
      return T0;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  private final InterruptingClock clockOne = new InterruptingClock();
  private final Map<String, Boolean> failures = new ConcurrentHashMap<>();
  /** Each control plane has its own rollouts (and their lock), failing where the test says. */
  private RolloutHook failingHook() {
    return new RolloutHook() {
    @Override
    public Optional<HeldBack> heldBack(String deployment, String host) {
      if (failures.containsKey("recompute")) {
        throw new IllegalStateException("injected failure while recomputing desired states");
      }
      return Optional.empty();
    }

    @Override
    public void versionChanged(VersionChange change) {
      if (failures.containsKey("rollout")) {
        throw new IllegalStateException("injected failure while starting the rollout");
      }
    }

    @Override
    public Optional<RollbackTarget> rollbackTarget(String deployment, String current, String to, boolean force) {
      return Optional.empty();
    }
    };
  }

  private Replica one;
  private Replica two;
  private String v1;
  private String v2;

  private void open(Engine engine) {
    this.engine = engine;
    if (engine == Engine.POSTGRESQL) {
      postgres = LocalPostgres.shared().newDatabase();
    }
    one = new Replica(clockOne, failingHook());
    two = new Replica(Clock.fixed(T0, ZoneOffset.UTC), failingHook());
    for (String host : List.of("a", "b")) {
      one.hosts.upsert(host, "spiffe://test/host/" + host, Map.of(), new byte[32], T0);
    }
    v1 = payload("v1");
    v2 = payload("v2");
  }

  @AfterEach
  void shutDown() throws Exception {
    if (engine == Engine.H2 && one != null) {
      try (var c = one.dataSource.getConnection(); var s = c.createStatement()) {
        s.execute("SHUTDOWN");
      }
    }
  }

  /**
   * Flyway over the same migrations as the control plane (vendor folder by engine once there is
   * one). Until every migration before V11 runs on PostgreSQL, the PostgreSQL cases are skipped,
   * naming the migration that failed.
   */
  private void migrate(DataSource dataSource) {
    try {
      Flyway.configure().dataSource(dataSource).locations(locations()).load().migrate();
    } catch (org.flywaydb.core.api.FlywayException e) {
      if (engine == Engine.POSTGRESQL) {
        Assumptions.abort("the schema does not migrate on PostgreSQL yet: " + e.getMessage());
      }
      throw e;
    }
  }

  private String[] locations() {
    String vendor = engine == Engine.H2 ? "h2" : "postgresql";
    if (getClass().getClassLoader().getResource("db/migration/" + vendor) != null) {
      return new String[] {"classpath:db/migration/common", "classpath:db/migration/" + vendor};
    }
    return new String[] {"classpath:db/migration"};
  }

  // Both control planes recompute the same change at the same moment, 30 times over: each change
  // gets exactly one new revision, no revision ever carries two contents, and the stored state
  // always holds the latest change.
  @ParameterizedTest
  @EnumSource(Engine.class)
  void twoWritersRecomputingOneHostNeverReuseNorLoseARevision(Engine engine) throws Exception {
    open(engine);
    one.deployments.put(new Deployments.PutRequest("web", v1, List.of("a"), Map.of(), false, List.of()));
    long start = one.hosts.find("a").orElseThrow().desiredRevision();
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      for (int round = 1; round <= 30; round++) {
        DeploymentRecord now = one.store.find("web").orElseThrow();
        one.store.upsert(new DeploymentRecord(now.name(), now.payloadSha256(), now.sequence(), null, null,
            now.generation() + 1, now.hosts(), now.labels(), now.maxInstances(), false, false, null, null, T0));
        CyclicBarrier together = new CyclicBarrier(2);
        Future<?> first = threads.submit(() -> {
          together.await();
          one.desired.recomputeAll();
          return null;
        });
        Future<?> second = threads.submit(() -> {
          together.await();
          two.desired.recomputeAll();
          return null;
        });
        first.get(30, TimeUnit.SECONDS);
        second.get(30, TimeUnit.SECONDS);
        var stored = one.hosts.find("a").orElseThrow();
        assertEquals(start + round, stored.desiredRevision(), "one new revision for round " + round);
        assertEquals(now.generation() + 1, one.desired.reload("a").getAgents(0).getGeneration(),
            "the stored state holds round " + round + "'s change");
      }
    } finally {
      threads.shutdownNow();
    }
    Map<Long, Long> generationByRevision = new java.util.HashMap<>();
    List<DesiredState> heard = new ArrayList<>(one.heard);
    heard.addAll(two.heard);
    for (DesiredState state : heard) {
      if (!state.getHostName().equals("a")) {
        continue;
      }
      Long before = generationByRevision.putIfAbsent(state.getRevision(), state.getAgents(0).getGeneration());
      assertTrue(before == null || before == state.getAgents(0).getGeneration(),
          "revision " + state.getRevision() + " was given to two contents");
    }
    assertEquals(31, generationByRevision.size(), generationByRevision.toString());
  }

  // A put computed from what the first control plane read loses to a deploy the second one
  // stored in between: ABORTED naming the sequence now, and the winner's change stands whole.
  @ParameterizedTest
  @EnumSource(Engine.class)
  void aDeployComputedFromAStaleReadIsAbortedAndTheOtherStands(Engine engine) {
    open(engine);
    one.deployments.put(new Deployments.PutRequest("web", v1, List.of("a"), Map.of(), false, List.of()));
    clockOne.interruption.set(() -> runElsewhere(() -> two.deployments.put(
        new Deployments.PutRequest("web", v2, List.of("a", "b"), Map.of(), false, List.of()))));

    StatusRuntimeException lost = assertThrows(StatusRuntimeException.class, () -> one.deployments.put(
        new Deployments.PutRequest("web", v1, List.of("b"), Map.of(), true, List.of())));

    assertEquals(Status.Code.ABORTED, lost.getStatus().getCode());
    assertTrue(lost.getStatus().getDescription().startsWith(
        "deployment web changed concurrently (now sequence 2, generation 2)"), lost.getStatus().getDescription());
    DeploymentRecord stored = one.store.find("web").orElseThrow();
    assertEquals(v2, stored.payloadSha256());
    assertEquals(List.of("a", "b"), stored.hosts());
    assertEquals(v2, one.desired.reload("b").getAgents(0).getPayload().getSha256());
  }

  // Two control planes creating one deployment name at once: the second waits for the first's
  // sequence claim, then its insert of the row the first created is ABORTED; the first stands.
  @ParameterizedTest
  @EnumSource(Engine.class)
  void creatingOneNameTwiceAtOnceAbortsTheLoser(Engine engine) throws Exception {
    open(engine);
    java.util.concurrent.CompletableFuture<DeploymentRecord> second = new java.util.concurrent.CompletableFuture<>();
    clockOne.interruption.set(() -> {
      Thread other = new Thread(() -> {
        try {
          second.complete(two.deployments.put(
              new Deployments.PutRequest("web", v2, List.of("a"), Map.of(), false, List.of())));
        } catch (Throwable e) {
          second.completeExceptionally(e);
        }
      }, "other-control-plane");
      other.start();
      awaitASessionBlocked(second); // it read "no such deployment" and waits on this one's sequence claim
    });

    DeploymentRecord first = one.deployments.put(
        new Deployments.PutRequest("web", v1, List.of("a"), Map.of(), false, List.of()));

    var lost = assertThrows(java.util.concurrent.ExecutionException.class, () -> second.get(30, TimeUnit.SECONDS));
    StatusRuntimeException aborted = (StatusRuntimeException) lost.getCause();
    assertEquals(Status.Code.ABORTED, aborted.getStatus().getCode());
    assertTrue(aborted.getStatus().getDescription().startsWith(
        "deployment web changed concurrently (now sequence 1, generation 1)"), aborted.getStatus().getDescription());
    assertEquals(1, first.sequence());
    assertEquals(v1, one.store.find("web").orElseThrow().payloadSha256());
  }

  private void awaitASessionBlocked(java.util.concurrent.Future<?> other) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (other.isDone()) {
        throw new AssertionError("the other control plane finished while this one held its sequence claim");
      }
      String waiting = engine == Engine.H2
          ? "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS WHERE SESSION_ID <> SESSION_ID()"
              + " AND LOWER(EXECUTING_STATEMENT) LIKE '%deployment_sequences%'"
          : "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'";
      try (var c = one.dataSource.getConnection(); var r = c.createStatement().executeQuery(waiting)) {
        r.next();
        if (r.getInt(1) > 0) {
          return;
        }
        Thread.sleep(5);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("the other control plane never waited on this one's lock");
  }

  // A change that fails after its deployment row was written (starting the rollout, or while
  // recomputing desired states) leaves the deployment, its sequence counter and every host's
  // desired state as they were, and pushes nothing.
  @ParameterizedTest
  @EnumSource(Engine.class)
  void aChangeThatFailsBeforeCommitLeavesNeitherDeploymentNorDesiredState(Engine engine) {
    open(engine);
    one.deployments.put(new Deployments.PutRequest("web", v1, List.of("a"), Map.of(), false, List.of()));
    DeploymentRecord before = one.store.find("web").orElseThrow();
    long revision = one.hosts.find("a").orElseThrow().desiredRevision();
    int heard = one.heard.size();

    for (String where : List.of("rollout", "recompute")) {
      failures.clear();
      failures.put(where, true);
      IllegalStateException failed = assertThrows(IllegalStateException.class, () -> one.deployments.put(
          new Deployments.PutRequest("web", v2, List.of("a", "b"), Map.of(), false, List.of())));
      assertTrue(failed.getMessage().contains("injected failure"), failed.getMessage());

      DeploymentRecord after = one.store.find("web").orElseThrow();
      assertEquals(before.payloadSha256(), after.payloadSha256(), where);
      assertEquals(before.sequence(), after.sequence(), where);
      assertEquals(before.generation(), after.generation(), where);
      assertEquals(before.hosts(), after.hosts(), where);
      assertEquals(revision, one.hosts.find("a").orElseThrow().desiredRevision(), where);
      assertEquals(0, one.hosts.find("b").orElseThrow().desiredRevision(), where);
      assertEquals(heard, one.heard.size(), "nothing pushed when " + where + " failed");
    }
    failures.clear();
    DeploymentRecord next = one.deployments.put(
        new Deployments.PutRequest("web", v2, List.of("a", "b"), Map.of(), false, List.of()));
    assertEquals(2, next.sequence(), "the failed attempts took no sequence number");
  }

  private static void runElsewhere(Runnable work) {
    Thread thread = new Thread(work, "other-control-plane");
    AtomicReference<Throwable> failed = new AtomicReference<>();
    thread.setUncaughtExceptionHandler((t, e) -> failed.set(e));
    thread.start();
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (failed.get() != null) {
      throw new AssertionError("the other control plane's change failed", failed.get());
    }
  }

  private String payload(String label) {
    try {
      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(label.getBytes(StandardCharsets.UTF_8)));
      one.payloads.insertIfAbsent(new PayloadStore.PayloadRecord(sha, 10, 10, 65536, new byte[12], new byte[48],
          label, List.of("api=1"), "alice", T0));
      return sha;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
