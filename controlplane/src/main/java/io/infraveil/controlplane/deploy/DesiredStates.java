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

  private final Jdbc jdbc;
  private final HostStore hosts;
  private final DeploymentStore deployments;
  private final PayloadStore payloads;
  private final Clock clock;
  private final Map<String, DesiredState> current = new ConcurrentHashMap<>();
  private final List<BiConsumer<String, DesiredState>> listeners = new CopyOnWriteArrayList<>();
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

  /** The hosts each deployment is placed on, by deployment name. */
  public synchronized Map<String, List<String>> placements() {
    List<HostRecord> allHosts = hosts.list();
    Map<String, List<String>> out = new java.util.TreeMap<>();
    for (DeploymentRecord deployment : deployments.list()) {
      out.put(deployment.name(), Placement.placedHosts(deployment, allHosts));
    }
    return out;
  }

  /** Recomputes every host; stores and announces those whose content changed. */
  public synchronized void recomputeAll() {
    jdbc.inTransaction("recompute the desired states", c -> {
      recomputeAllInTransaction();
      return null;
    });
  }

  private void recomputeAllInTransaction() {
    List<HostRecord> allHosts = hosts.list();
    Map<String, HostStore.StoredDesired> stored = hosts.desiredStates();
    // Placement and the desired entry of each deployment are computed once, not once per host.
    Map<DeploymentRecord, java.util.Set<String>> placed = new java.util.LinkedHashMap<>();
    Map<DeploymentRecord, DesiredAgent> entries = new java.util.HashMap<>();
    for (DeploymentRecord deployment : deployments.list()) {
      placed.put(deployment, java.util.Set.copyOf(Placement.placedHosts(deployment, allHosts)));
    }
    for (HostRecord host : allHosts) {
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
      storeIfChanged(host.name(), agents, host.labels(), stored.get(host.name()));
    }
  }

  /** Stores the content under the next revision unless the stored state already holds it. */
  private void storeIfChanged(String host, List<DesiredAgent> agents, Map<String, String> labels,
      HostStore.StoredDesired stored) {
    for (int attempt = 1; stored != null; attempt++) {
      DesiredState before = parse(host, stored);
      if (before.getAgentsList().equals(agents) && before.getHostLabelsMap().equals(labels)) {
        jdbc.afterCommit(() -> adopt(before, false)); // perhaps stored by another control plane
        return;
      }
      if (store(host, stored.revision(), stored.revision() + 1, agents, labels).isPresent()) {
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
        if (held <= state.getRevision()) {
          jdbc.afterCommit(() -> adopt(state, false));
          return state;
        }
        var raised = store(host, state.getRevision(), held + 1, state.getAgentsList(), state.getHostLabelsMap());
        if (raised.isPresent()) {
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

  /**
   * Stores the state under {@code revision} if the stored revision is still {@code expected};
   * once the transaction commits it is held here and pushed. Empty when another writer won.
   */
  private Optional<DesiredState> store(String host, long expected, long revision, List<DesiredAgent> agents,
      Map<String, String> hostLabels) {
    DesiredState state = DesiredState.newBuilder()
        .setHostName(host)
        .setRevision(revision)
        .addAllAgents(agents)
        .putAllHostLabels(hostLabels)
        .setIssuedAt(ProtoTime.timestamp(clock.instant()))
        .build();
    if (!hosts.compareAndSetDesiredState(host, expected, revision, state.toByteArray())) {
      return Optional.empty();
    }
    jdbc.afterCommit(() -> adopt(state, true));
    return Optional.of(state);
  }

  /**
   * Holds a committed state unless a newer one is held already. Listeners hear of states stored
   * here ({@code storedHere}); one another replica stored reaches them through the change feed.
   */
  private void adopt(DesiredState state, boolean storedHere) {
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
