package io.infraveil.controlplane.rollout;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.deploy.RolloutHook;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HostConnection;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import io.infraveil.proto.v1.VersionStatus;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries rollouts out. Starts one for every new version ({@link #versionChanged}), holds hosts
 * that are not moved yet on the entry they had ({@link #heldBack}), and on every {@link #tick}
 * asks {@link RolloutPolicy} what follows from what hosts report, stores the result, then
 * recomputes desired states and tells listeners. Ticks run on the operations scheduler, never
 * on gRPC threads; reports only leave facts behind for the next tick.
 *
 * <p>Lock order: {@code Deployments} → this → {@code DesiredStates}. {@link #heldBack} reads an
 * immutable snapshot and takes no lock, since desired states call it while locked.
 */
@Singleton
public final class RolloutEngine implements RolloutHook {

  private static final Logger LOG = LoggerFactory.getLogger(RolloutEngine.class);

  /** A rollout step for Watch, incidents and the log. */
  public record StepEvent(Instant at, String deployment, String version, RolloutPolicy.StepKind kind,
      String host, int batch, String text, Rollout rollout) {}

  /** Hears every rollout step; must not block. */
  public interface Listener {
    void step(StepEvent event);
  }

  private final RolloutStore store;
  private final DeploymentStore deployments;
  private final PayloadStore payloads;
  private final DesiredStates desiredStates;
  private final ReportIngest ingest;
  private final HostLiveness liveness;
  private final Clock clock;
  private final RolloutViews views;
  private final Map<String, Rollout> latest = new ConcurrentHashMap<>();
  /** Failures hosts reported as events (rolled back, payload refused), by host/deployment. */
  private final Map<String, Failure> reportedFailures = new ConcurrentHashMap<>();
  /** When each deployment was last seen paused: healthy_deadline does not run while paused. */
  private final Map<String, Instant> lastSeenPaused = new ConcurrentHashMap<>();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();

  private record Failure(Instant at, String sha256, String why) {}

  /** A rollout snapshot's hosts by name, for {@link #heldBack}; replaced when the snapshot is. */
  private record HostIndex(Rollout rollout, Map<String, RolloutHostEntry> byHost) {}

  private final Map<String, HostIndex> indexes = new ConcurrentHashMap<>();

  public RolloutEngine(RolloutStore store, DeploymentStore deployments, PayloadStore payloads,
      DesiredStates desiredStates, ReportIngest ingest, HostLiveness liveness, Clock clock, RolloutViews views) {
    this.views = views;
    this.store = store;
    this.deployments = deployments;
    this.payloads = payloads;
    this.desiredStates = desiredStates;
    this.ingest = ingest;
    this.liveness = liveness;
    this.clock = clock;
    // A restart resumes every rollout where it was: the store holds all of it.
    store.latestPerDeployment().forEach(r -> latest.put(r.deployment(), r));
    desiredStates.useRolloutHook(this);
    ingest.addListener(new ReportIngest.Listener() {
      @Override
      public void event(ReportIngest.ReceivedEvent received) {
        noteEvent(received);
      }

      @Override
      public void eventElsewhere(ReportIngest.ReceivedEvent received) {
        noteEvent(received); // the leader's rounds decide for hosts held by every replica
      }
    });
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  @Override
  public Optional<HeldBack> heldBack(String deployment, String host) {
    Rollout r = latest.get(deployment);
    if (r == null) {
      return Optional.empty();
    }
    if (r.phase() == Phase.SUCCEEDED || r.phase() == Phase.REVERTED) {
      // Every host runs, or is back on, the deployment's version: none is held back, so a later
      // restart or secret change reaches them all.
      return Optional.empty();
    }
    HostIndex index = indexes.get(deployment);
    if (index == null || index.rollout() != r) {
      // Built once per snapshot: a recompute asks for every host of the fleet.
      index = new HostIndex(r, r.hostsByName());
      indexes.put(deployment, index);
    }
    RolloutHostEntry entry = index.byHost().get(host);
    if (entry == null || entry.phase() != HostPhase.PENDING) {
      return Optional.empty();
    }
    return Optional.of(new HeldBack(parse(entry.fromEntry())));
  }

  @Override
  public synchronized void versionChanged(VersionChange change) {
    Instant now = clock.instant();
    DeploymentRecord next = change.next();
    Rollout before = latest.get(next.name());
    if (change.previous() == null) {
      before = null; // a re-created name starts a history of its own version
    }
    Strategy strategy = (before == null ? Strategy.DEFAULTS : before.strategy()).with(change.strategy());
    Rollout.Version target = new Rollout.Version(next.payloadSha256(), next.sequence(), null,
        label(next.payloadSha256()));
    Rollout.Version revertTo = lastHealthy(change.previous(), before);
    if (change.previous() != null
        && healthyEverywhere(next.name(), change.previous().payloadSha256(), change.placed())) {
      // Every placed host reports the running version healthy right now, even if no rollout
      // proved it yet (it was superseded early): it is the latest healthy fleet-wide.
      DeploymentRecord previous = change.previous();
      revertTo = new Rollout.Version(previous.payloadSha256(), previous.sequence(), previous.signatures(),
          label(previous.payloadSha256()));
    }
    boolean first = change.previous() == null || change.entries().isEmpty();
    List<RolloutHostEntry> hosts = new ArrayList<>();
    int position = 0;
    for (String host : change.placed()) {
      DesiredAgent had = change.entries().get(host);
      RolloutHostEntry entry = RolloutHostEntry.pending(host, position++, had == null ? null : had.toByteArray());
      // A first version has nothing running to protect: every host gets it at once.
      hosts.add(first ? entry.moved(1, false, now) : entry);
    }
    if (before != null && !before.phase().terminal()) {
      Rollout superseded = before.withPhase(Phase.SUPERSEDED, "superseded by " + target.label()
          + " (sequence " + target.sequence() + ")", now);
      store.update(before, superseded);
      publish(superseded, new RolloutPolicy.Step(RolloutPolicy.StepKind.FAILED, "", superseded.batch(),
          "rollout of " + superseded.target().label() + " superseded by " + target.label()), now);
    }
    Rollout fresh = new Rollout(0, next.name(), change.origin(), target, next.generation(),
        revertTo, strategy, Phase.RUNNING, false, first ? 1 : 0, null, change.startedBy(), now, null, hosts);
    List<RolloutPolicy.Step> steps = List.of();
    if (!first) {
      // The first batch moves with the change itself, so the desired states about to be
      // recomputed already name the new version where it goes first. Decided before the rollout
      // is stored, so each host row is written once, already moved.
      RolloutPolicy.Decision decision = RolloutPolicy.decide(fresh, observe(fresh), next.paused(), null, now);
      if (decision.changed()) {
        fresh = decision.rollout();
        steps = decision.steps();
      }
    }
    Rollout created = store.insert(fresh);
    latest.put(next.name(), created);
    publish(created, new RolloutPolicy.Step(RolloutPolicy.StepKind.BATCH_STARTED, "", first ? 1 : 0,
        (change.origin().equals("rollback") ? "rollback" : "rollout") + " of " + target.label() + " started on "
            + hosts.size() + " hosts (" + (first ? "first version: all at once"
                : strategy.batches(hosts.size()) + " batches") + ")"), now);
    steps.forEach(step -> publish(created, step, now));
  }

  /**
   * The last version healthy on every host: the version of the latest rollout that succeeded,
   * else what the latest rollout would revert to; for a deployment older than rollouts, the
   * version it had.
   */
  private Rollout.Version lastHealthy(DeploymentRecord previous, Rollout before) {
    if (previous == null) {
      return null;
    }
    if (before == null) {
      return new Rollout.Version(previous.payloadSha256(), previous.sequence(), previous.signatures(),
          label(previous.payloadSha256()));
    }
    if (before.phase() == Phase.SUCCEEDED) {
      // The signatures of that version are the ones the deployment carries while it is current.
      byte[] signatures = before.target().sha256().equals(previous.payloadSha256()) ? previous.signatures() : null;
      return new Rollout.Version(before.target().sha256(), before.target().sequence(), signatures,
          before.target().label());
    }
    return before.revertTo();
  }

  private boolean healthyEverywhere(String deployment, String sha256, List<String> placed) {
    return !placed.isEmpty() && placed.stream().allMatch(host -> ingest.agent(host, deployment)
        .map(report -> report.heartbeat().getPayload().getSha256().equals(sha256) && healthy(report.heartbeat()))
        .orElse(false));
  }

  @Override
  public Optional<RollbackTarget> rollbackTarget(String deployment, String current, String to, boolean force) {
    List<Rollout> history = store.history(deployment, 1000);
    if (to.isEmpty()) {
      for (Rollout r : history) {
        if (r.phase() == Phase.SUCCEEDED && !r.target().sha256().equals(current)) {
          return Optional.of(new RollbackTarget(r.target().sha256(), r.target().label()));
        }
        if (r.revertTo() != null && !r.revertTo().sha256().equals(current) && r.phase() != Phase.SUCCEEDED) {
          return Optional.of(new RollbackTarget(r.revertTo().sha256(), r.revertTo().label()));
        }
      }
      return Optional.empty();
    }
    Rollout named = null;
    for (Rollout r : history) {
      if (r.target().label().equals(to) || Long.toString(r.target().sequence()).equals(to)) {
        named = r;
        break;
      }
    }
    if (named == null) {
      return Optional.empty();
    }
    String sha = named.target().sha256();
    boolean everHealthy = history.stream().anyMatch(r -> r.phase() == Phase.SUCCEEDED
        && r.target().sha256().equals(sha));
    boolean failedBefore = history.stream().anyMatch(r -> r.target().sha256().equals(sha)
        && (r.phase() == Phase.FAILED || r.phase() == Phase.REVERTED));
    if (failedBefore && !everHealthy && !force) {
      Rollout failed = history.stream().filter(r -> r.target().sha256().equals(sha)
          && (r.phase() == Phase.FAILED || r.phase() == Phase.REVERTED)).findFirst().orElseThrow();
      throw Status.FAILED_PRECONDITION.withDescription("version " + named.target().label() + " (sequence "
          + named.target().sequence() + ") of " + deployment + " failed its rollout: " + failed.reason()
          + "; roll back to it anyway with --force").asRuntimeException();
    }
    return Optional.of(new RollbackTarget(sha, named.target().label()));
  }

  /** Lets a rollout waiting after its canaries continue. */
  public synchronized Rollout promote(String deployment) {
    Rollout r = latest.get(deployment);
    if (r == null) {
      throw Status.NOT_FOUND.withDescription("deployment " + deployment + " has no rollout; `infraveil ctl "
          + "history " + deployment + "` lists what it ran").asRuntimeException();
    }
    if (r.phase().terminal()) {
      throw Status.FAILED_PRECONDITION.withDescription("the rollout of " + r.target().label() + " to "
          + deployment + " is over (" + r.phase() + "); there is nothing to promote").asRuntimeException();
    }
    if (r.promoted()) {
      return r;
    }
    Rollout promoted = r.promote();
    store.update(r, promoted);
    latest.put(deployment, promoted);
    return promoted;
  }

  @Override
  public Optional<io.infraveil.proto.v1.Rollout> summary(String deployment, boolean paused) {
    return latest(deployment).map(r -> views.view(r, paused, false));
  }

  /** The latest rollout of a deployment, as the API shows it. */
  public Optional<io.infraveil.proto.v1.Rollout> view(String deployment) {
    Optional<Rollout> r = latest(deployment);
    if (r.isEmpty()) {
      return Optional.empty();
    }
    boolean paused = deployments.find(deployment).map(DeploymentRecord::paused).orElse(false);
    return Optional.of(views.view(r.get(), paused, true));
  }

  /** A deployment's history as the API shows it, newest first. */
  public List<io.infraveil.proto.v1.Rollout> historyView(String deployment, int limit) {
    return history(deployment, limit).stream().map(r -> views.view(r, false, true)).toList();
  }

  /** The latest rollout of a deployment. */
  public Optional<Rollout> latest(String deployment) {
    return Optional.ofNullable(latest.get(deployment));
  }

  /** Deployments whose latest rollout is known. */
  public List<String> deploymentsWithRollouts() {
    return List.copyOf(latest.keySet());
  }

  /** A deployment's rollouts, newest first. */
  public List<Rollout> history(String deployment, int limit) {
    return store.history(deployment, limit);
  }

  /**
   * Reads every deployment's latest rollout from the store again: another replica may have
   * started one (a deploy it answered) or moved one on (it led before this one). A rollout of
   * a deployment that no longer exists is kept only while this engine still has to announce
   * its end.
   */
  public synchronized void reload() {
    java.util.Set<String> existing = new java.util.HashSet<>();
    deployments.list().forEach(d -> existing.add(d.name()));
    Map<String, Rollout> fresh = new HashMap<>();
    for (Rollout r : store.latestPerDeployment()) {
      if (existing.contains(r.deployment()) || latest.containsKey(r.deployment())) {
        fresh.put(r.deployment(), r);
      }
    }
    latest.keySet().retainAll(fresh.keySet());
    latest.putAll(fresh);
  }

  /** One round over every rollout that is not over. */
  public synchronized void tick() {
    Instant now = clock.instant();
    boolean recompute = false;
    Map<String, DeploymentRecord> records = new HashMap<>();
    deployments.list().forEach(d -> records.put(d.name(), d));
    Map<String, List<String>> placements = desiredStates.placements();
    for (Rollout rollout : List.copyOf(latest.values())) {
      Rollout r = rollout;
      Optional<DeploymentRecord> record = Optional.ofNullable(records.get(r.deployment()));
      if (r.phase().terminal()) {
        if (record.isEmpty()) {
          // Deleted: its rollout holds no host back any more, and its failure is over.
          latest.remove(r.deployment());
          publish(r, new RolloutPolicy.Step(RolloutPolicy.StepKind.DELETED, "", r.batch(),
              "deployment " + r.deployment() + " deleted"), now);
        }
        continue;
      }
      if (record.isEmpty() || !record.get().payloadSha256().equals(r.target().sha256())) {
        Rollout ended = r.withPhase(Phase.SUPERSEDED, record.isEmpty() ? "deployment deleted"
            : "the deployment no longer names " + r.target().label(), now);
        store.update(r, ended);
        latest.put(r.deployment(), ended);
        publish(ended, new RolloutPolicy.Step(RolloutPolicy.StepKind.FAILED, "", ended.batch(),
            "rollout of " + r.target().label() + " ended: " + ended.reason()), now);
        continue;
      }
      // Hosts the deployment no longer targets leave the rollout: there is nothing to wait for.
      java.util.Set<String> placed = new java.util.HashSet<>(placements.getOrDefault(r.deployment(), List.of()));
      if (!r.hosts().stream().allMatch(h -> placed.contains(h.host()))) {
        Rollout narrowed = r.withHosts(r.hosts().stream().filter(h -> placed.contains(h.host())).toList());
        store.update(r, narrowed);
        latest.put(r.deployment(), narrowed);
        r = narrowed;
      }
      boolean paused = record.get().paused();
      if (paused) {
        lastSeenPaused.put(r.deployment(), now);
      }
      RolloutPolicy.Decision decision = RolloutPolicy.decide(r, observe(r), paused,
          lastSeenPaused.get(r.deployment()), now);
      if (!decision.changed()) {
        continue;
      }
      Rollout next = decision.rollout();
      if (next.phase() == Phase.REVERTED) {
        // The deployment names the old version before the rollout lets its held hosts go.
        revert(record.get(), next);
        recompute = true;
      }
      store.update(r, next);
      latest.put(r.deployment(), next);
      recompute |= movedOrReverted(r, next);
      for (RolloutPolicy.Step step : decision.steps()) {
        publish(next, step, now);
      }
    }
    if (recompute) {
      desiredStates.recomputeAll();
    }
  }

  /** Puts the deployment back on the last version healthy on every host, unless it moved on. */
  private void revert(DeploymentRecord current, Rollout reverted) {
    Rollout.Version to = reverted.revertTo();
    // Hosts never moved keep the entry they had, generation included: the reverted record takes
    // that generation back, so they see no change and restart nothing.
    long generation = reverted.hosts().stream()
        .filter(h -> h.fromEntry() != null)
        .map(h -> parse(h.fromEntry()))
        .filter(entry -> entry.getPayload().getSha256().equals(to.sha256()))
        .mapToLong(DesiredAgent::getGeneration)
        .max().orElse(current.generation());
    // Compare-and-set: a deploy stored meanwhile (here or on another control plane) wins.
    java.util.OptionalLong version = deployments.rowVersion(current.name());
    boolean unchanged = deployments.find(current.name())
        .filter(now -> now.payloadSha256().equals(current.payloadSha256()) && now.sequence() == current.sequence())
        .isPresent();
    if (!unchanged || !deployments.compareAndSet(new DeploymentRecord(current.name(), to.sha256(), to.sequence(),
        current.payloadSha256(), current.sequence(), generation, current.hosts(), current.labels(),
        current.maxInstances(), current.paused(), false, to.signatures(), current.frozen(), current.updatedAt()),
        version)) {
      LOG.warn("deployment {} changed while its rollout was reverted; the change stands", current.name());
      return;
    }
    LOG.warn("deployment {} reverted to {} (sequence {}): {}", current.name(), to.label(), to.sequence(),
        reverted.reason());
  }

  private static boolean movedOrReverted(Rollout before, Rollout after) {
    Map<String, RolloutHostEntry> had = before.hostsByName();
    for (RolloutHostEntry h : after.hosts()) {
      RolloutHostEntry was = had.get(h.host());
      if (was == null || (was.phase() == HostPhase.PENDING) != (h.phase() == HostPhase.PENDING)) {
        return true;
      }
    }
    return false;
  }

  private Map<String, RolloutPolicy.Observation> observe(Rollout r) {
    Map<String, RolloutPolicy.Observation> out = new HashMap<>();
    for (RolloutHostEntry h : r.hosts()) {
      HostConnection connection = liveness.connection(h.host());
      boolean online = connection == HostConnection.HOST_CONNECTION_ONLINE
          || connection == HostConnection.HOST_CONNECTION_DETACHED;
      Optional<ReportIngest.AgentReport> report = ingest.agent(h.host(), r.deployment());
      String failure = null;
      Failure reported = reportedFailures.get(key(h.host(), r.deployment()));
      if (h.movedAt() != null && reported != null && !reported.at().isBefore(h.movedAt())
          && (reported.sha256().isEmpty() || reported.sha256().equals(r.target().sha256())
              || reported.why().startsWith("rolled back"))) {
        failure = reported.why();
      }
      if (report.isEmpty()) {
        out.put(h.host(), new RolloutPolicy.Observation(online, false, false, failure, "no heartbeat yet"));
        continue;
      }
      HeartbeatRequest heartbeat = report.get().heartbeat();
      boolean runsTarget = heartbeat.getPayload().getSha256().equals(r.target().sha256());
      if (runsTarget && failure == null) {
        if (heartbeat.getVersionStatus() == VersionStatus.VERSION_STATUS_MARKED_BAD) {
          failure = "its agent marked " + r.target().label() + " bad";
        }
        for (ServiceStatus s : heartbeat.getServicesList()) {
          if (failure == null && s.getState() == ServiceState.SERVICE_STATE_FAILED) {
            failure = "service " + s.getName() + " FAILED" + (s.getReason().isEmpty() ? "" : ": " + s.getReason());
          }
        }
      }
      out.put(h.host(), new RolloutPolicy.Observation(online, runsTarget, runsTarget && healthy(heartbeat),
          failure, describe(heartbeat)));
    }
    return out;
  }

  /** Every service running with a passing health check. */
  static boolean healthy(HeartbeatRequest heartbeat) {
    return heartbeat.getServicesCount() > 0 && heartbeat.getServicesList().stream()
        .allMatch(s -> s.getState() == ServiceState.SERVICE_STATE_RUNNING
            && s.getHealth() == HealthStatus.HEALTH_STATUS_HEALTHY);
  }

  private String describe(HeartbeatRequest heartbeat) {
    StringBuilder out = new StringBuilder(label(heartbeat.getPayload().getSha256()));
    for (ServiceStatus s : heartbeat.getServicesList()) {
      out.append(", ").append(s.getName()).append(' ')
          .append(s.getState().name().replace("SERVICE_STATE_", "").toLowerCase())
          .append('/').append(s.getHealth().name().replace("HEALTH_STATUS_", "").toLowerCase());
    }
    return out.toString();
  }

  /**
   * A host found its own cached copy damaged, threw it away and fetched the version again: that
   * says nothing against the version (a version that cannot be fetched or verified is refused
   * with its own reason), so it does not fail the rollout.
   */
  static final String CACHE_ENTRY_EVICTED = "CACHE_ENTRY_EVICTED";

  private void noteEvent(ReportIngest.ReceivedEvent received) {
    var event = received.event();
    String why;
    if (event.getKind() == EventKind.EVENT_KIND_ROLLED_BACK) {
      why = "rolled back" + (event.getReason().isEmpty() ? "" : " (" + event.getReason() + ")")
          + (event.getMessage().isEmpty() ? "" : ": " + event.getMessage());
    } else if (event.getKind() == EventKind.EVENT_KIND_PAYLOAD_REJECTED
        && !CACHE_ENTRY_EVICTED.equals(event.getReason())) {
      why = "refused the payload" + (event.getReason().isEmpty() ? "" : " (" + event.getReason() + ")")
          + (event.getMessage().isEmpty() ? "" : ": " + event.getMessage());
    } else {
      return;
    }
    reportedFailures.put(key(received.host(), event.getDeployment()),
        new Failure(received.receivedAt(), event.getPayload().getSha256(), why));
  }

  private void publish(Rollout r, RolloutPolicy.Step step, Instant at) {
    LOG.info("deployment {}: {}", r.deployment(), step.text());
    StepEvent event = new StepEvent(at, r.deployment(), r.target().label(), step.kind(), step.host(), step.batch(),
        step.text(), r);
    for (Listener listener : listeners) {
      try {
        listener.step(event);
      } catch (RuntimeException e) {
        LOG.error("a rollout listener failed on {}: {}", step.text(), e.toString());
      }
    }
  }

  private String label(String sha256) {
    return payloads.find(sha256).map(PayloadStore.PayloadRecord::versionLabel)
        .filter(l -> !l.isEmpty()).orElse(sha256.substring(0, Math.min(12, sha256.length())));
  }

  private static DesiredAgent parse(byte[] entry) {
    if (entry == null) {
      return null;
    }
    try {
      return DesiredAgent.parseFrom(entry);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a stored rollout entry is corrupt", e);
    }
  }

  private static String key(String host, String deployment) {
    return host + "/" + deployment;
  }
}
