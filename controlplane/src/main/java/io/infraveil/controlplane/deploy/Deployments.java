package io.infraveil.controlplane.deploy;

import io.grpc.Status;
import io.infraveil.certs.Identity;
import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.DeploymentStore.Frozen;
import io.infraveil.controlplane.store.HostStore;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.store.StoreException;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.PublisherSignature;
import io.infraveil.proto.v1.RolloutStrategy;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Operator changes to deployments. Each change — the deployment row, the rollout it starts and
 * every host's recomputed desired state — commits in one transaction, or none of it does; hosts
 * hear of it once it committed. A new payload version always gets a new, higher sequence number,
 * rollbacks included.
 *
 * <p>Several control planes may share the database: a change stores the deployment only if its
 * row is still the version the change was computed from (compare-and-set on
 * {@code deployments.row_version}); the loser of two concurrent changes gets {@code ABORTED}
 * naming the deployment's sequence now, and nothing of it is stored.
 */
@Singleton
public final class Deployments {

  private final Jdbc jdbc;
  private final DeploymentStore store;
  private final PayloadStore payloads;
  private final DesiredStates desiredStates;
  private final HostStore hosts;
  private final Clock clock;
  private final RolloutHook rollouts;

  public Deployments(Jdbc jdbc, DeploymentStore store, PayloadStore payloads, DesiredStates desiredStates,
      HostStore hosts, Clock clock, RolloutHook rollouts) {
    this.jdbc = jdbc;
    this.store = store;
    this.payloads = payloads;
    this.desiredStates = desiredStates;
    this.hosts = hosts;
    this.clock = clock;
    this.rollouts = rollouts;
  }

  /**
   * The request to create or move a deployment. {@code sequence} is the one a publisher signed,
   * or 0 to let the control plane give the next one.
   */
  public record PutRequest(String name, String payloadSha256, List<String> hosts, Map<String, String> labels,
      boolean retryMarkedBad, List<PublisherSignature> signatures, long sequence, RolloutStrategy strategy,
      String startedBy) {

    public PutRequest(String name, String payloadSha256, List<String> hosts, Map<String, String> labels,
        boolean retryMarkedBad, List<PublisherSignature> signatures, long sequence) {
      this(name, payloadSha256, hosts, labels, retryMarkedBad, signatures, sequence,
          RolloutStrategy.getDefaultInstance(), "");
    }

    public PutRequest(String name, String payloadSha256, List<String> hosts, Map<String, String> labels,
        boolean retryMarkedBad, List<PublisherSignature> signatures) {
      this(name, payloadSha256, hosts, labels, retryMarkedBad, signatures, 0);
    }
  }

  public synchronized DeploymentRecord put(PutRequest request) {
    requireName(request.name());
    return change(request.name(), () -> putInTransaction(request));
  }

  private DeploymentRecord putInTransaction(PutRequest request) {
    var payload = payloads.find(request.payloadSha256()).orElseThrow(() -> Status.NOT_FOUND
        .withDescription("payload " + request.payloadSha256() + " is not uploaded: upload it first "
            + "(infraveil ctl deploy DIR does both)").asRuntimeException());
    checkTargets(request.name(), request.hosts(), request.labels());
    int maxInstances = payload.services().stream()
        .mapToInt(entry -> Integer.parseInt(entry.substring(entry.indexOf('=') + 1)))
        .max().orElse(0);
    List<HostStore.HostRecord> allHosts = hosts.list();
    var placement = PlacementReview.review(request.name(), request.hosts(), request.labels(), maxInstances,
        allHosts);
    if (placement.refused()) {
      throw refusal(placement);
    }
    OptionalLong version = store.rowVersion(request.name()); // before the row: never newer than it
    Optional<DeploymentRecord> existing = store.find(request.name());
    long sequence = sequenceFor(request, payload.sha256(), existing);
    DeploymentRecord next;
    if (existing.isEmpty()) {
      next = new DeploymentRecord(request.name(), payload.sha256(), sequence,
          null, null, 1, List.copyOf(request.hosts()), new TreeMap<>(request.labels()), maxInstances,
          false, request.retryMarkedBad(), DesiredStates.Signatures.encode(request.signatures()), null,
          clock.instant());
    } else {
      DeploymentRecord old = existing.get();
      boolean newVersion = !old.payloadSha256().equals(payload.sha256());
      boolean sameSequence = sequence == old.sequence();
      // The generation grows with every new version, and with a retry of a version the hosts
      // marked bad (which needs a restart even when the payload is the same).
      long generation = newVersion || request.retryMarkedBad() ? old.generation() + 1 : old.generation();
      // Changing only the targets keeps the signatures the version was deployed with.
      byte[] signatures = sameSequence && request.signatures().isEmpty()
          ? old.signatures() : DesiredStates.Signatures.encode(request.signatures());
      next = new DeploymentRecord(old.name(), payload.sha256(), sequence,
          newVersion ? old.payloadSha256() : old.previousSha256(),
          newVersion ? Long.valueOf(old.sequence()) : old.previousSequence(),
          generation, List.copyOf(request.hosts()), new TreeMap<>(request.labels()), maxInstances,
          old.paused(), request.retryMarkedBad(), signatures, old.frozen(), clock.instant());
    }
    write(next, version);
    List<String> placed = Placement.placedHosts(next, allHosts);
    boolean newVersion = existing.isEmpty() || !existing.get().payloadSha256().equals(next.payloadSha256());
    if (newVersion) {
      startRollout(existing.orElse(null), next, placed, request.strategy(), request.startedBy(), "deploy");
    }
    // Only the hosts it was or is placed on: no other host's state names this deployment.
    java.util.Set<String> affected = new java.util.HashSet<>(placed);
    existing.ifPresent(old -> affected.addAll(Placement.placedHosts(old, allHosts)));
    // The hosts this transaction read for the placement: the fleet is read once per change.
    desiredStates.recompute(affected, allHosts);
    return next;
  }

  /** Moves the deployment back to its previous payload, under a new sequence number. */
  public DeploymentRecord rollback(String name) {
    return rollback(name, "", false, "");
  }

  /**
   * Moves the deployment to {@code to} (a version label or sequence) or, when empty, to the last
   * version that was healthy on every host, under a new sequence number, through a rollout
   * without canaries. A version whose rollout failed is refused unless named and forced.
   */
  public synchronized DeploymentRecord rollback(String name, String to, boolean force, String startedBy) {
    return change(name, () -> rollbackInTransaction(name, to, force, startedBy));
  }

  private DeploymentRecord rollbackInTransaction(String name, String to, boolean force, String startedBy) {
    OptionalLong version = store.rowVersion(name);
    DeploymentRecord old = require(name);
    String target = rollouts.rollbackTarget(name, old.payloadSha256(), to, force)
        .map(RolloutHook.RollbackTarget::sha256).orElse(null);
    if (target == null && !to.isEmpty()) {
      throw Status.NOT_FOUND.withDescription("deployment " + name + " never ran a version \"" + to
          + "\"; `infraveil ctl history " + name + "` lists its versions and sequences").asRuntimeException();
    }
    if (target == null) {
      target = old.previousSha256();
    }
    if (target == null) {
      throw Status.FAILED_PRECONDITION.withDescription("deployment " + name + " has no previous version "
          + "to roll back to").asRuntimeException();
    }
    if (target.equals(old.payloadSha256())) {
      throw Status.FAILED_PRECONDITION.withDescription("deployment " + name + " already runs that version "
          + "(sequence " + old.sequence() + "); `infraveil ctl rollout status " + name + "` shows where "
          + "its hosts are").asRuntimeException();
    }
    DeploymentRecord next = new DeploymentRecord(name, target, store.nextSequence(name),
        old.payloadSha256(), old.sequence(), old.generation() + 1, old.hosts(), old.labels(),
        old.maxInstances(), old.paused(), false, null, old.frozen(), clock.instant());
    write(next, version);
    List<String> placed = Placement.placedHosts(next, hosts.list());
    // Going back to a version that ran before needs no canary.
    startRollout(old, next, placed, RolloutStrategy.newBuilder().setCanary(0).build(), startedBy, "rollback");
    desiredStates.recompute(placed);
    return next;
  }

  /** Tells the rollouts of a new version with what each placed host runs now. */
  private void startRollout(DeploymentRecord previous, DeploymentRecord next, List<String> placed,
      RolloutStrategy strategy, String startedBy, String origin) {
    Map<String, DesiredAgent> entries = new TreeMap<>();
    for (String host : placed) {
      desiredStates.find(host, next.name()).ifPresent(entry -> entries.put(host, entry));
    }
    rollouts.versionChanged(new RolloutHook.VersionChange(previous, next, placed, entries,
        strategy == null ? RolloutStrategy.getDefaultInstance() : strategy, startedBy, origin));
  }

  /** Bumps the generation: every host restarts the deployment. */
  public synchronized DeploymentRecord restart(String name) {
    return change(name, () -> {
      OptionalLong version = store.rowVersion(name);
      DeploymentRecord old = require(name);
      DeploymentRecord next = with(old, old.generation() + 1, old.paused(), old.frozen());
      write(next, version);
      desiredStates.recompute(Placement.placedHosts(next, hosts.list()));
      return next;
    });
  }

  /** Freezes what hosts run; later changes are stored but not pushed until resumed. */
  public synchronized DeploymentRecord pause(String name) {
    return change(name, () -> {
      OptionalLong version = store.rowVersion(name);
      DeploymentRecord old = require(name);
      if (old.paused()) {
        return old;
      }
      DeploymentRecord next = with(old, old.generation(), true,
          new Frozen(old.payloadSha256(), old.sequence(), old.generation()));
      write(next, version);
      return next;
    });
  }

  public synchronized DeploymentRecord resume(String name) {
    return change(name, () -> {
      OptionalLong version = store.rowVersion(name);
      DeploymentRecord old = require(name);
      DeploymentRecord next = with(old, old.generation(), false, null);
      write(next, version);
      desiredStates.recompute(Placement.placedHosts(next, hosts.list()));
      return next;
    });
  }

  /** Forgets the deployment; hosts stop its agents when their desired state no longer names it. */
  public synchronized List<String> delete(String name) {
    return change(name, () -> {
      OptionalLong version = store.rowVersion(name);
      require(name);
      List<String> placed = desiredStates.placements().getOrDefault(name, List.of());
      if (version.isEmpty() || !store.compareAndDelete(name, version.getAsLong())) {
        throw changedConcurrently(name);
      }
      desiredStates.recompute(placed);
      return placed;
    });
  }

  /**
   * Runs one change in one transaction. The rollouts' lock is taken before any row is locked
   * (lock order: this, rollouts, desired states), so a rollout round on this control plane never
   * waits on a row this change holds while holding what this change waits for. A write conflict
   * the database reports (another control plane changing the same rows) is the same ABORTED as
   * a lost compare-and-set.
   */
  private <T> T change(String name, Supplier<T> work) {
    try {
      synchronized (rollouts) {
        return jdbc.inTransaction("change deployment " + name, c -> work.get());
      }
    } catch (StoreException e) {
      if (conflict(e)) {
        throw changedConcurrently(name);
      }
      throw e;
    }
  }

  /** Stores {@code next} if its row is still at {@code version}; ABORTED otherwise. */
  private void write(DeploymentRecord next, OptionalLong version) {
    if (!store.compareAndSet(next, version)) {
      throw changedConcurrently(next.name());
    }
  }

  private io.grpc.StatusRuntimeException changedConcurrently(String name) {
    String now = store.find(name).map(d -> "now sequence " + d.sequence() + ", generation " + d.generation())
        .orElse("being created or deleted by another change");
    return Status.ABORTED.withDescription("deployment " + name + " changed concurrently (" + now
        + "), through another control plane or call; nothing of this change was stored: retry it")
        .asRuntimeException();
  }

  private static boolean conflict(StoreException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null) {
        String state = sql.getSQLState();
        return state.equals("23505") || state.startsWith("40") || state.equals("HYT00");
      }
    }
    return false;
  }

  /** A valid name and exactly one kind of target, each host name well formed. */
  static void checkTargets(String name, List<String> hosts, Map<String, String> labels) {
    requireName(name);
    if (hosts.isEmpty() == labels.isEmpty()) {
      throw Status.INVALID_ARGUMENT.withDescription("deployment " + name + " needs exactly one "
          + "kind of target: hosts (--hosts a,b) or labels (--labels k=v)").asRuntimeException();
    }
    for (String host : hosts) {
      if (!Identity.isValidName(host)) {
        throw Status.INVALID_ARGUMENT.withDescription("host name \"" + host + "\" is invalid").asRuntimeException();
      }
    }
  }

  /** The gRPC status for a refused placement: a malformed selector, or targets the fleet lacks. */
  static io.grpc.StatusRuntimeException refusal(PlacementReview.Outcome outcome) {
    Status status = outcome.refusal() == PlacementReview.Refusal.INVALID_TARGET
        ? Status.INVALID_ARGUMENT : Status.FAILED_PRECONDITION;
    return status.withDescription(outcome.message()).asRuntimeException();
  }

  public List<DeploymentRecord> list() {
    return store.list();
  }

  public DeploymentRecord require(String name) {
    return store.find(name).orElseThrow(() -> Status.NOT_FOUND.withDescription("deployment " + name
        + " does not exist; `infraveil ctl status` lists deployments").asRuntimeException());
  }

  private DeploymentRecord with(DeploymentRecord old, long generation, boolean paused, Frozen frozen) {
    return new DeploymentRecord(old.name(), old.payloadSha256(), old.sequence(), old.previousSha256(),
        old.previousSequence(), generation, old.hosts(), old.labels(), old.maxInstances(), paused,
        old.retryMarkedBad(), old.signatures(), frozen, clock.instant());
  }

  /**
   * A signed version brings its own sequence, which must be new for the name (hosts refuse a
   * sequence that is not above the ones they accepted); an unsigned one gets the next sequence
   * when its payload changes. Repeating the current signed version keeps its sequence.
   */
  private long sequenceFor(PutRequest request, String sha256, Optional<DeploymentRecord> existing) {
    if (request.sequence() < 0) {
      throw Status.INVALID_ARGUMENT.withDescription("sequence " + request.sequence()
          + " is negative; sequences start at 1").asRuntimeException();
    }
    if (request.sequence() == 0) {
      if (!request.signatures().isEmpty()) {
        throw Status.INVALID_ARGUMENT.withDescription("deployment " + request.name() + " carries "
            + "publisher signatures but no sequence: a signature covers the sequence it was made "
            + "for, so send that sequence too (infraveil ctl deploy --sign does)").asRuntimeException();
      }
      boolean samePayload = existing.isPresent() && existing.get().payloadSha256().equals(sha256);
      return samePayload ? existing.get().sequence() : store.nextSequence(request.name());
    }
    if (existing.isPresent() && existing.get().sequence() == request.sequence()
        && existing.get().payloadSha256().equals(sha256)) {
      return request.sequence();
    }
    OptionalLong refused = store.claimSequence(request.name(), request.sequence());
    if (refused.isPresent()) {
      throw Status.FAILED_PRECONDITION.withDescription("deployment " + request.name() + " already had "
          + "sequence " + refused.getAsLong() + ", so sequence " + request.sequence() + " is not new "
          + "and hosts would refuse it as a replay; sign again with a higher sequence (infraveil ctl "
          + "deploy --sign KEY --sequence " + (refused.getAsLong() + 1) + ")").asRuntimeException();
    }
    return request.sequence();
  }

  private static void requireName(String name) {
    if (name == null || !name.matches("[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?")) {
      throw Status.INVALID_ARGUMENT.withDescription("deployment name \"" + name + "\" is invalid: use "
          + "lower-case letters, digits and dashes, at most 64").asRuntimeException();
    }
  }
}
