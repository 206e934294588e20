package io.infraveil.controlplane.deploy;

import com.google.protobuf.InvalidProtocolBufferException;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.HostStore;
import io.infraveil.controlplane.store.HostStore.HostRecord;
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
 * deployments and stored; listeners hear each change made here once it is stored (the change
 * feed tells every replica, which pushes it to the launchers it holds).
 */
@Singleton
public final class DesiredStates {

  private final HostStore hosts;
  private final DeploymentStore deployments;
  private final PayloadStore payloads;
  private final Clock clock;
  private final Map<String, DesiredState> current = new ConcurrentHashMap<>();
  private final List<BiConsumer<String, DesiredState>> listeners = new CopyOnWriteArrayList<>();
  private volatile RolloutHook rollouts = RolloutHook.NONE;

  public DesiredStates(HostStore hosts, DeploymentStore deployments, PayloadStore payloads, Clock clock) {
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
    List<HostRecord> allHosts = hosts.list();
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
      DesiredState before = current(host.name());
      if (!before.getAgentsList().equals(agents)
          || !before.getHostLabelsMap().equals(host.labels())) {
        publish(host.name(), before.getRevision() + 1, agents, host.labels());
      }
    }
  }

  /**
   * Makes sure the host's revision is above {@code held}: after a database restore a launcher
   * may hold a higher revision than the control plane remembers, and would ignore older ones.
   */
  public synchronized DesiredState ensureAbove(String host, long held) {
    DesiredState state = current(host);
    if (held > state.getRevision()) {
      return publish(host, held + 1, state.getAgentsList(), state.getHostLabelsMap());
    }
    return state;
  }

  public Optional<DesiredAgent> find(String host, String deployment) {
    return current(host).getAgentsList().stream()
        .filter(agent -> agent.getDeployment().equals(deployment))
        .findFirst();
  }

  private DesiredState publish(String host, long revision, List<DesiredAgent> agents,
      Map<String, String> hostLabels) {
    DesiredState state = DesiredState.newBuilder()
        .setHostName(host)
        .setRevision(revision)
        .addAllAgents(agents)
        .putAllHostLabels(hostLabels)
        .setIssuedAt(ProtoTime.timestamp(clock.instant()))
        .build();
    hosts.setDesiredState(host, revision, state.toByteArray());
    current.put(host, state);
    listeners.forEach(listener -> listener.accept(host, state));
    return state;
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
