package io.infraveil.controlplane.deploy;

import com.google.protobuf.InvalidProtocolBufferException;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.HostStore;
import io.infraveil.controlplane.store.HostStore.HostRecord;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.store.StoreException;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.PublisherSignature;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * The desired state of every host, level-triggered: always the full snapshot, with a per-host
 * revision that grows only when the content changes. Recomputed on every change of hosts or
 * deployments (inside the caller's transaction when there is one) and stored; listeners hear
 * each change made here once its transaction commits (the change feed tells every replica,
 * which pushes it to the launchers it holds).
 *
 * <p>Several control planes may share the database: a revision is taken by compare-and-set on
 * {@code hosts.desired_revision} against the stored one, never by adding one to a remembered
 * value, and a writer that lost the race reads the winner's state and decides again. The map
 * here is a cache of committed states; it only moves forward.
 */
@Singleton
public final class DesiredStates {

  /** Attempts at one host's compare-and-set before giving up (each loss means another writer won). */
  private static final int MAX_ATTEMPTS = 20;
  /** Up to this many hosts to recompute are read one by one instead of listing the fleet. */
  private static final int FEW_HOSTS = 16;
  /** Above this many hosts to recompute, every stored state is read in one query. */
  private static final int MANY_HOSTS = 500;

  private final Jdbc jdbc;
  private final HostStore hosts;
  private final DeploymentStore deployments;
  private final PayloadStore payloads;
  private final Clock clock;
  private final Map<String, DesiredState> current = new ConcurrentHashMap<>();
  private final List<BiConsumer<String, DesiredState>> listeners = new CopyOnWriteArrayList<>();
  private final List<java.util.function.Consumer<List<DesiredState>>> batchListeners = new CopyOnWriteArrayList<>();
  private volatile StoredWithin storedWithin = states -> {};
  private volatile RolloutHook rollouts = RolloutHook.NONE;

  public DesiredStates(Jdbc jdbc, HostStore hosts, DeploymentStore deployments, PayloadStore payloads,
      Clock clock) {
    this.jdbc = jdbc;
    this.hosts = hosts;
    this.deployments = deployments;
    this.payloads = payloads;
    this.clock = clock;
  }

  /** The rollouts that may hold hosts on the version they had; set once at start. */
  public void useRolloutHook(RolloutHook hook) {
    this.rollouts = java.util.Objects.requireNonNull(hook, "hook");
  }

  /** Called with (host, state) whenever a host's desired state changes. */
  public void addListener(BiConsumer<String, DesiredState> listener) {
    listeners.add(listener);
  }

  /**
   * Called once per commit with every state stored here that is newer than the one held (a
   * whole fan-out in one list), after the per-host listeners; must not block: push from here.
   */
  public void addBatchListener(java.util.function.Consumer<List<DesiredState>> listener) {
    batchListeners.add(listener);
  }

  /** Hears, inside the storing transaction, the states about to commit (for the change feed). */
  public interface StoredWithin {
    void stored(List<DesiredState> states);
  }

  /** Sets who records stored states inside their transaction; set once at start. */
  public void recordStoredWithin(StoredWithin within) {
    this.storedWithin = java.util.Objects.requireNonNull(within, "within");
  }

  /**
   * {@link #reload(String)} for many hosts with one read per few hundred; the states held after
   * it, by host (hosts not enrolled are left out).
   */
  public Map<String, DesiredState> reload(java.util.Collection<String> names) {
    Map<String, DesiredState> out = new java.util.HashMap<>();
    hosts.desiredStates(names).forEach((host, stored) -> {
      DesiredState read = known(host, stored);
      out.put(host, current.merge(host, read,
          (known, fresh) -> fresh.getRevision() >= known.getRevision() ? fresh : known));
    });
    return out;
  }

  /** The host's current desired state (revision 0 and no agents if none was ever computed). */
  public DesiredState current(String host) {
    return current.computeIfAbsent(host, this::load);
  }

  /**
   * Reads the host's desired state from the database (another replica may have written it)
   * and keeps it unless a newer revision is already known here.
   */
  public DesiredState reload(String host) {
    DesiredState stored = load(host);
    return current.merge(host, stored,
        (known, read) -> read.getRevision() >= known.getRevision() ? read : known);
  }

  /**
   * A host's state after one read of the database: the state held here (the newer of memory and
   * the read) and the revision the database holds.
   */
  public record Reloaded(DesiredState held, long storedRevision) {}

  /**
   * {@link #reload(String)} that also tells the revision the database holds, from the same one
   * read: a Sync hello needs {@link #ensureAbove} (a transaction under this class's lock, shared
   * by every hello) only when the launcher holds more than that, see {@link #aboveHeld}.
   */
  public Reloaded reloadWithStoredRevision(String host) {
    Optional<HostStore.StoredDesired> stored = hosts.storedDesired(host);
    // As load(): a host whose state was never computed has revision 0 and no agents.
    DesiredState read = stored.filter(s -> s.state() != null).map(s -> known(host, s))
        .orElseGet(() -> DesiredState.newBuilder().setHostName(host).build());
    DesiredState held = current.merge(host, read,
        (known, fresh) -> fresh.getRevision() >= known.getRevision() ? fresh : known);
    return new Reloaded(held, stored.map(HostStore.StoredDesired::revision).orElse(0L));
  }

  /**
   * The state to offer a launcher holding {@code held}, after {@link #reloadWithStoredRevision}:
   * what is held here now, unless the launcher holds more than the database did (a database
   * restored from a backup), which {@link #ensureAbove} raises. Stored revisions only grow, so
   * an ordinary reconnect reads, writes and locks nothing more here.
   */
  public DesiredState aboveHeld(String host, long held, Reloaded reloaded) {
    return held <= reloaded.storedRevision() ? current(host) : ensureAbove(host, held);
  }

  /** The hosts each deployment is placed on, by deployment name. */
  public synchronized Map<String, List<String>> placements() {
    List<HostRecord> allHosts = hosts.list();
    Map<String, List<String>> out = new java.util.TreeMap<>();
    for (DeploymentRecord deployment : deployments.list()) {
      out.put(deployment.name(), Placement.placedHosts(deployment, allHosts));
    }
    return out;
  }

  /**
   * The hosts {@code deployment}, as given, is placed on: one read of the hosts, none of the
   * other deployments (each of which may name thousands of hosts).
   */
  public synchronized List<String> placement(DeploymentRecord deployment) {
    return Placement.placedHosts(deployment, hosts.list());
  }

  /** Recomputes every host; stores and announces those whose content changed. */
  public synchronized void recomputeAll() {
    jdbc.inTransaction("recompute the desired states", c -> {
      recomputeInTransaction(null, null);
      return null;
    });
  }

  /**
   * Recomputes the named hosts only: a change to one deployment changes the states of the hosts
   * it was and is placed on, and of no other. Stores and announces those whose content changed.
   */
  public synchronized void recompute(java.util.Collection<String> names) {
    recompute(names, null);
  }

  /**
   * {@link #recompute(java.util.Collection)} with the host rows the caller's transaction already
   * read ({@code hostsRead}, every host; null reads them here): a deployment change reads the
   * fleet once, not once for its placement and again for the desired states.
   */
  public synchronized void recompute(java.util.Collection<String> names, List<HostRecord> hostsRead) {
    if (names.isEmpty()) {
      return;
    }
    java.util.Set<String> only = java.util.Set.copyOf(names);
    jdbc.inTransaction("recompute the desired states of " + only.size() + " hosts", c -> {
      recomputeInTransaction(only, hostsRead);
      return null;
    });
  }

  /** Recomputes {@code only} (every host when null), storing the changed states in one batch. */
  private void recomputeInTransaction(java.util.Set<String> only, List<HostRecord> hostsRead) {
    // Placement has no cap, so placing a deployment among these hosts alone gives the same
    // answer for them as among the whole fleet: a few hosts are read one by one.
    List<HostRecord> allHosts = hostsRead != null ? hostsRead
        : only != null && only.size() <= FEW_HOSTS
            ? only.stream().map(hosts::find).flatMap(Optional::stream).toList()
            : hosts.list();
    // Many hosts are read in one pass over the table, a few by name.
    Map<String, HostStore.StoredDesired> stored = only == null || only.size() > MANY_HOSTS
        ? hosts.desiredStates() : hosts.desiredStates(only);
    // Placement and the desired entry of each deployment are computed once, not once per host;
    // by identity: a record's own hash covers every host it names.
    Map<DeploymentRecord, java.util.Set<String>> placed = new java.util.LinkedHashMap<>();
    Map<DeploymentRecord, DesiredAgent> entries = new java.util.IdentityHashMap<>();
    for (DeploymentRecord deployment : deployments.list()) {
      placed.put(deployment, java.util.Set.copyOf(Placement.placedHosts(deployment, allHosts)));
    }
    Batch batch = new Batch();
    List<HostStore.DesiredWrite> writes = new ArrayList<>();
    List<DesiredState> proposed = new ArrayList<>();
    for (HostRecord host : allHosts) {
      if (only != null && !only.contains(host.name())) {
        continue;
      }
      List<DesiredAgent> agents = new ArrayList<>();
      for (var entry : placed.entrySet()) {
        if (entry.getValue().contains(host.name())) {
          // A rollout that has not moved this host yet keeps it on what it had (or on nothing).
          Optional<RolloutHook.HeldBack> held = rollouts.heldBack(entry.getKey().name(), host.name());
          if (held.isPresent()) {
            if (held.get().entry() != null) {
              agents.add(held.get().entry());
            }
          } else {
            agents.add(entries.computeIfAbsent(entry.getKey(), this::agentFor));
          }
        }
      }
      HostStore.StoredDesired was = stored.get(host.name());
      if (was == null) {
        continue;
      }
      DesiredState before = known(host.name(), was);
      if (same(before, agents, host.labels())) {
        batch.unchanged.add(before); // perhaps stored by another control plane
        continue;
      }
      DesiredState next = state(host.name(), was.revision() + 1, agents, host.labels());
      proposed.add(next);
      writes.add(new HostStore.DesiredWrite(host.name(), was.revision(), next.getRevision(), next.toByteArray()));
    }
    boolean[] won = hosts.compareAndSetDesiredStates(writes);
    for (int i = 0; i < won.length; i++) {
      DesiredState next = proposed.get(i);
      if (won[i]) {
        batch.storedHere.add(next);
      } else {
        // Another writer stored this host in between: decide again on its state.
        storeIfChanged(next.getHostName(), next.getAgentsList(), next.getHostLabelsMap(),
            hosts.storedDesired(next.getHostName()).orElse(null), batch);
      }
    }
    finish(batch);
  }

  /** What one recompute or raise stored here and found unchanged; announced together after commit. */
  private static final class Batch {
    final List<DesiredState> storedHere = new ArrayList<>();
    final List<DesiredState> unchanged = new ArrayList<>();
  }

  /**
   * Records the batch inside the transaction (the change feed's rows commit with the states),
   * then, once it commits, holds the states here and tells the listeners.
   */
  private void finish(Batch batch) {
    if (!batch.storedHere.isEmpty()) {
      storedWithin.stored(List.copyOf(batch.storedHere));
    }
    if (batch.storedHere.isEmpty() && batch.unchanged.isEmpty()) {
      return;
    }
    jdbc.afterCommit(() -> {
      batch.unchanged.forEach(state -> adopt(state, false));
      List<DesiredState> newer = new ArrayList<>(batch.storedHere.size());
      for (DesiredState state : batch.storedHere) {
        if (adopt(state, true)) {
          newer.add(state);
        }
      }
      if (!newer.isEmpty()) {
        List<DesiredState> heard = List.copyOf(newer);
        batchListeners.forEach(listener -> listener.accept(heard));
      }
    });
  }

  /** The stored state, from this cache when it holds the same revision (one revision, one content). */
  private DesiredState known(String host, HostStore.StoredDesired stored) {
    DesiredState cached = current.get(host);
    if (cached != null && cached.getRevision() == stored.revision() && stored.state() != null) {
      return cached;
    }
    return parse(host, stored);
  }

  private static boolean same(DesiredState state, List<DesiredAgent> agents, Map<String, String> labels) {
    return state.getAgentsList().equals(agents) && state.getHostLabelsMap().equals(labels);
  }

  /** Stores the content under the next revision unless the stored state already holds it. */
  private void storeIfChanged(String host, List<DesiredAgent> agents, Map<String, String> labels,
      HostStore.StoredDesired stored, Batch batch) {
    for (int attempt = 1; stored != null; attempt++) {
      DesiredState before = parse(host, stored);
      if (same(before, agents, labels)) {
        batch.unchanged.add(before); // perhaps stored by another control plane
        return;
      }
      Optional<DesiredState> won = compareAndSet(host, stored.revision(), stored.revision() + 1, agents, labels);
      if (won.isPresent()) {
        batch.storedHere.add(won.get());
        return;
      }
      if (attempt == MAX_ATTEMPTS) {
        throw new StoreException("the desired state of " + host + " was changed by another writer "
            + MAX_ATTEMPTS + " times in a row while this one stored it; retry", null);
      }
      stored = hosts.storedDesired(host).orElse(null); // another writer won: decide again on its state
    }
  }

  /**
   * Makes sure the host's revision is above {@code held}: after a database restore a launcher
   * may hold a higher revision than the control plane remembers, and would ignore older ones.
   */
  public synchronized DesiredState ensureAbove(String host, long held) {
    return jdbc.inTransaction("raise the desired revision of " + host, c -> {
      for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        var stored = hosts.storedDesired(host);
        if (stored.isEmpty()) {
          return current(host);
        }
        DesiredState state = parse(host, stored.get());
        Batch batch = new Batch();
        if (held <= state.getRevision()) {
          batch.unchanged.add(state);
          finish(batch);
          return state;
        }
        var raised = compareAndSet(host, state.getRevision(), held + 1, state.getAgentsList(),
            state.getHostLabelsMap());
        if (raised.isPresent()) {
          batch.storedHere.add(raised.get());
          finish(batch);
          return raised.get();
        }
      }
      throw new StoreException("the desired state of " + host + " was changed by another writer "
          + MAX_ATTEMPTS + " times in a row while this one raised its revision; retry", null);
    });
  }

  public Optional<DesiredAgent> find(String host, String deployment) {
    return current(host).getAgentsList().stream()
        .filter(agent -> agent.getDeployment().equals(deployment))
        .findFirst();
  }

  private DesiredState state(String host, long revision, List<DesiredAgent> agents, Map<String, String> labels) {
    return DesiredState.newBuilder()
        .setHostName(host)
        .setRevision(revision)
        .addAllAgents(agents)
        .putAllHostLabels(labels)
        .setIssuedAt(ProtoTime.timestamp(clock.instant()))
        .build();
  }

  /** Stores the state under {@code revision} if the stored revision is still {@code expected}; empty when another writer won. */
  private Optional<DesiredState> compareAndSet(String host, long expected, long revision, List<DesiredAgent> agents,
      Map<String, String> hostLabels) {
    DesiredState state = state(host, revision, agents, hostLabels);
    if (!hosts.compareAndSetDesiredState(host, expected, revision, state.toByteArray())) {
      return Optional.empty();
    }
    return Optional.of(state);
  }

  /**
   * Holds a committed state unless a newer one is held already; true when it was newer. Listeners
   * hear of states stored here ({@code storedHere}); one another replica stored reaches them
   * through the change feed.
   */
  private boolean adopt(DesiredState state, boolean storedHere) {
    String host = state.getHostName();
    boolean[] newer = {false};
    current.compute(host, (name, held) -> {
      if (held == null || state.getRevision() > held.getRevision()) {
        newer[0] = true;
        return state;
      }
      return held;
    });
    if (newer[0] && storedHere) {
      listeners.forEach(listener -> listener.accept(host, state));
    }
    return newer[0];
  }

  private static DesiredState parse(String host, HostStore.StoredDesired stored) {
    if (stored.state() == null) {
      return DesiredState.newBuilder().setHostName(host).setRevision(stored.revision()).build();
    }
    try {
      return DesiredState.parseFrom(stored.state());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("the stored desired state of " + host + " is corrupt", e);
    }
  }

  private DesiredAgent agentFor(DeploymentRecord deployment) {
    String sha256 = deployment.frozen() != null ? deployment.frozen().sha256() : deployment.payloadSha256();
    long sequence = deployment.frozen() != null ? deployment.frozen().sequence() : deployment.sequence();
    long generation = deployment.frozen() != null ? deployment.frozen().generation() : deployment.generation();
    var payload = payloads.find(sha256).orElseThrow(() -> new IllegalStateException(
        "deployment " + deployment.name() + " names payload " + sha256 + ", which is not stored"));
    DesiredAgent.Builder agent = DesiredAgent.newBuilder()
        .setDeployment(deployment.name())
        .setPayload(PayloadRef.newBuilder()
            .setSha256(sha256)
            .setSize(payload.plaintextSize())
            .setSequence(sequence)
            .setVersion(payload.versionLabel()))
        .setGeneration(generation)
        .setRetryMarkedBad(deployment.retryMarkedBad());
    agent.addAllSignatures(Signatures.decode(deployment.signatures()));
    return agent.build();
  }

  private DesiredState load(String host) {
    return hosts.desiredState(host).map(bytes -> {
      try {
        return DesiredState.parseFrom(bytes);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("the stored desired state of " + host + " is corrupt", e);
      }
    }).orElse(DesiredState.newBuilder().setHostName(host).build());
  }

  /** Publisher signatures as stored (a serialized list). */
  static final class Signatures {
    private Signatures() {}

    static byte[] encode(List<PublisherSignature> signatures) {
      if (signatures.isEmpty()) {
        return null;
      }
      return DesiredAgent.newBuilder().addAllSignatures(signatures).build().toByteArray();
    }

    static List<PublisherSignature> decode(byte[] stored) {
      if (stored == null) {
        return List.of();
      }
      try {
        return DesiredAgent.parseFrom(stored).getSignaturesList();
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("stored publisher signatures are corrupt", e);
      }
    }
  }
}
