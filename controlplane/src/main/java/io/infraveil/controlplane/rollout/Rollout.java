package io.infraveil.controlplane.rollout;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * One rollout, as stored: an immutable snapshot that crosses threads and goes to disk. Changes
 * make a new snapshot ({@link #withPhase}, {@link #withHosts}).
 *
 * @param id 0 until stored
 * @param target the version rolled out
 * @param revertTo the last version healthy on every host, or null for a deployment's first one
 * @param batch the latest batch started (1 is the first; 0 before any)
 * @param promoted whether an operator promoted it past its canaries
 * @param reason why it failed or was reverted, else null
 */
record Rollout(long id, String deployment, String origin, Version target, long generation, Version revertTo,
    Strategy strategy, Phase phase, boolean promoted, int batch, String reason, String startedBy,
    Instant startedAt, Instant finishedAt, List<RolloutHostEntry> hosts) {

  /** A payload version of the deployment. */
  record Version(String sha256, long sequence, byte[] signatures, String label) {
    Version {
      Objects.requireNonNull(sha256, "sha256");
      label = label == null ? "" : label;
    }
  }

  Rollout {
    Objects.requireNonNull(deployment, "deployment");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(strategy, "strategy");
    Objects.requireNonNull(phase, "phase");
    Objects.requireNonNull(startedAt, "startedAt");
    hosts = List.copyOf(hosts);
    startedBy = startedBy == null ? "" : startedBy;
  }

  Rollout withId(long newId) {
    return new Rollout(newId, deployment, origin, target, generation, revertTo, strategy, phase, promoted, batch,
        reason, startedBy, startedAt, finishedAt, hosts);
  }

  Rollout withPhase(Phase next, String why, Instant at) {
    return new Rollout(id, deployment, origin, target, generation, revertTo, strategy, next, promoted, batch,
        why, startedBy, startedAt, next.terminal() ? at : null, hosts);
  }

  Rollout withBatch(int next) {
    return new Rollout(id, deployment, origin, target, generation, revertTo, strategy, phase, promoted, next,
        reason, startedBy, startedAt, finishedAt, hosts);
  }

  Rollout promote() {
    return new Rollout(id, deployment, origin, target, generation, revertTo, strategy, phase, true, batch,
        reason, startedBy, startedAt, finishedAt, hosts);
  }

  Rollout withHosts(List<RolloutHostEntry> next) {
    return new Rollout(id, deployment, origin, target, generation, revertTo, strategy, phase, promoted, batch,
        reason, startedBy, startedAt, finishedAt, next);
  }

  /**
   * This rollout with {@code change} applied to every host in one pass (it returns the entry
   * unchanged for hosts it leaves alone): one copy of the list, however many hosts change.
   */
  Rollout withEachHost(UnaryOperator<RolloutHostEntry> change) {
    List<RolloutHostEntry> next = new ArrayList<>(hosts.size());
    for (RolloutHostEntry h : hosts) {
      next.add(change.apply(h));
    }
    return withHosts(next);
  }

  /** The hosts by name (built per call: callers that look up many hosts build it once). */
  java.util.Map<String, RolloutHostEntry> hostsByName() {
    java.util.Map<String, RolloutHostEntry> out = new java.util.HashMap<>(hosts.size() * 2);
    hosts.forEach(h -> out.put(h.host(), h));
    return out;
  }

  /** This rollout with {@code change} applied to the named host. */
  Rollout withHost(String host, UnaryOperator<RolloutHostEntry> change) {
    List<RolloutHostEntry> next = new ArrayList<>(hosts);
    for (int i = 0; i < next.size(); i++) {
      if (next.get(i).host().equals(host)) {
        next.set(i, change.apply(next.get(i)));
      }
    }
    return withHosts(next);
  }

  RolloutHostEntry host(String name) {
    return hosts.stream().filter(h -> h.host().equals(name)).findFirst().orElse(null);
  }

  long count(HostPhase phase) {
    return hosts.stream().filter(h -> h.phase() == phase).count();
  }
}
