package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.ops.Evidence;
import io.infraveil.controlplane.store.SecurityEventStore.SecurityEventRecord;
import io.infraveil.proto.v1.EvidenceSource;
import io.infraveil.proto.v1.HostReport;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.TimelineEntry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * Opens and resolves incidents from rules over reported state. Rules hear every report; after
 * each report and on a timer the engine asks every rule what holds now: a finding with no open
 * incident opens one, an open incident with no finding resolves. An opening incident gets a
 * timeline of the evidence recorded around it (console lines within {@link #CONSOLE_WINDOW}),
 * and evidence that concerns it keeps extending it while it is open.
 *
 * <p>Incidents loaded from the store at start are not resolved during a grace period, so that
 * hosts have time to report again before their absence counts as recovery.
 *
 * <p>With several control-plane replicas only the leader opens and resolves: {@code leaderTerm}
 * says the term this replica leads in (0 when it does not). A replica that starts leading loads
 * the open incidents from the store before it evaluates anything, with the same grace as at
 * start, so an incident open at a hand-over is carried on, never opened again or dropped. The
 * store refuses a second open incident for one key, so even two leaders overlapping cannot
 * duplicate one. Followers keep their rules fed and their view read from the store
 * ({@link #followStore}).
 */
public final class Incidents {

  /** Hears incidents open and resolve. Called outside the engine's lock, in order. */
  public interface Listener {
    void opened(Incident incident);

    void resolved(Incident incident);
  }

  /** Console lines belong to an incident when printed within this much of its opening. */
  public static final Duration CONSOLE_WINDOW = Duration.ofMinutes(2);
  static final int MAX_TIMELINE = 300;
  static final int MAX_PER_SOURCE = 60;
  static final int RECENT_RESOLVED = 200;

  private record Tracked(Finding finding, Incident incident, Map<EvidenceSource, Integer> perSource) {}

  private record Change(Incident incident, boolean opened) {}

  private final List<IncidentRule> rules;
  private final IncidentStore store;
  private final TimelineSource timeline;
  private final Clock clock;
  private final RandomGenerator random;
  private final Duration restoreGrace;
  private final LongSupplier leaderTerm;
  /** Where evaluations after a report run: off the threads that received it (direct in tests). */
  private final java.util.concurrent.Executor evaluator;
  /** An evaluation is queued on the evaluator and has not started: reports meanwhile need no other. */
  private final java.util.concurrent.atomic.AtomicBoolean evaluationQueued =
      new java.util.concurrent.atomic.AtomicBoolean();
  /** Evaluations asked for by reports so far, and how many of them a finished evaluation covered. */
  private final java.util.concurrent.atomic.AtomicLong evaluationsAsked = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong evaluationsCovered = new java.util.concurrent.atomic.AtomicLong();
  /** Guarded by this: until when incidents loaded from the store are not resolved. */
  private Instant graceUntil;
  /** Guarded by this: the leader term whose start loaded the open incidents (0: none yet). */
  private long loadedTerm;
  /** Guarded by this: the store's change mark when this follower last read it (null: read next time). */
  private String followedMark;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  /** Guarded by this: open incidents by finding key. */
  private final Map<String, Tracked> open = new LinkedHashMap<>();
  /** Guarded by this: resolved incidents, newest first. */
  private final Deque<Incident> resolved = new ArrayDeque<>();
  /** Guarded by this: keys of open incidents loaded at start and still in their grace period. */
  private final Set<String> restored = new HashSet<>();

  /** An engine that always leads: one control plane alone, and tests. */
  public Incidents(List<IncidentRule> rules, IncidentStore store, TimelineSource timeline, Clock clock,
      RandomGenerator random, Duration restoreGrace) {
    this(rules, store, timeline, clock, random, restoreGrace, () -> 1L);
  }

  public Incidents(List<IncidentRule> rules, IncidentStore store, TimelineSource timeline, Clock clock,
      RandomGenerator random, Duration restoreGrace, LongSupplier leaderTerm) {
    this(rules, store, timeline, clock, random, restoreGrace, leaderTerm, Runnable::run);
  }

  /**
   * @param evaluator runs the evaluation a report asks for; many reports arriving while one is
   *     queued share it, so the receiving threads only feed the rules
   */
  public Incidents(List<IncidentRule> rules, IncidentStore store, TimelineSource timeline, Clock clock,
      RandomGenerator random, Duration restoreGrace, LongSupplier leaderTerm, java.util.concurrent.Executor evaluator) {
    this.evaluator = Objects.requireNonNull(evaluator, "evaluator");
    this.rules = List.copyOf(rules);
    this.store = Objects.requireNonNull(store, "store");
    this.timeline = Objects.requireNonNull(timeline, "timeline");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.random = Objects.requireNonNull(random, "random");
    this.restoreGrace = Objects.requireNonNull(restoreGrace, "restoreGrace");
    this.leaderTerm = Objects.requireNonNull(leaderTerm, "leaderTerm");
    synchronized (this) {
      Instant now = clock.instant();
      graceUntil = now.plus(restoreGrace);
      adopt(loadStored(), now, true);
      loadedTerm = leaderTerm.getAsLong();
    }
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  public void hostReported(String host, HostReport report) {
    rules.forEach(rule -> rule.hostReported(host, report));
    evaluateSoon();
  }

  public void agentReported(ReportIngest.AgentReport report) {
    rules.forEach(rule -> rule.agentReported(report));
    evaluateSoon();
  }

  public void event(ReportIngest.ReceivedEvent event) {
    rules.forEach(rule -> rule.event(event));
    evaluateSoon();
  }

  public void securityEvent(SecurityEventRecord event) {
    rules.forEach(rule -> rule.securityEvent(event));
    evaluateSoon();
  }

  /** An evaluation on the evaluator, unless one is queued and not started (it will see this change too). */
  private void evaluateSoon() {
    evaluationsAsked.incrementAndGet();
    if (leaderTerm.getAsLong() == 0 || !evaluationQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      evaluator.execute(() -> {
        evaluationQueued.set(false);
        evaluate();
      });
    } catch (java.util.concurrent.RejectedExecutionException stopping) {
      evaluationQueued.set(false); // the control plane is stopping
    }
  }

  /** Asks every rule what holds now; opens and resolves incidents accordingly. */
  public void evaluate() {
    long term = leaderTerm.getAsLong();
    if (term == 0) {
      return; // the leader evaluates; this replica's view follows the store
    }
    long asked = evaluationsAsked.get();
    List<Change> changes = new ArrayList<>();
    synchronized (this) {
      Instant now = clock.instant();
      if (term != loadedTerm) {
        changes.addAll(takeOver(term, now));
      }
      changes.addAll(evaluateLocked(now));
    }
    evaluationsCovered.accumulateAndGet(asked, Math::max);
    notify(changes);
  }

  /**
   * Runs here an evaluation a report asked for that has not finished yet, so a reader sees what
   * every report received before its read caused (a caller whose heartbeat returned lists the
   * incident it opened).
   */
  private void catchUp() {
    if (evaluationsCovered.get() < evaluationsAsked.get()) {
      evaluate();
    }
  }

  /**
   * On a replica that does not lead: replaces the view with the store's (the leader writes
   * it), telling listeners what opened and resolved since the last look. Does nothing on the
   * leader, whose view is the one being written.
   */
  public void followStore() {
    if (leaderTerm.getAsLong() != 0) {
      return;
    }
    List<IncidentStore.Stored> stored;
    String mark;
    try {
      mark = store.changeMark();
      synchronized (this) {
        if (!mark.isEmpty() && mark.equals(followedMark)) {
          return; // nothing changed since the last read
        }
      }
      stored = store.load(RECENT_RESOLVED);
    } catch (RuntimeException e) {
      STORE_LOG.warn("incident store: cannot read incidents to follow the leader: {}", e.getMessage());
      return;
    }
    List<Change> changes;
    synchronized (this) {
      changes = adopt(stored, clock.instant(), false);
      loadedTerm = 0;
      followedMark = mark;
    }
    notify(changes);
  }

  /**
   * This replica starts leading in {@code term}: the open incidents are the store's (another
   * leader may have opened and resolved some), under a fresh grace period.
   */
  private List<Change> takeOver(long term, Instant now) {
    List<IncidentStore.Stored> stored;
    try {
      stored = store.load(RECENT_RESOLVED);
    } catch (RuntimeException e) {
      // The store refuses a duplicate open incident, so going on with what is in memory is safe.
      STORE_LOG.error("incident store: cannot load incidents on taking the lead (term {}): {}; going on with"
          + " the incidents in memory", term, e.getMessage());
      loadedTerm = term;
      return List.of();
    }
    graceUntil = now.plus(restoreGrace);
    List<Change> changes = adopt(stored, now, true);
    loadedTerm = term;
    followedMark = null; // should this replica follow again, it reads the store afresh
    STORE_LOG.info("incidents_taken_over term={} open={}", term, open.size());
    return changes;
  }

  /**
   * Makes the stored incidents the ones this engine holds; the changes against what it held
   * before. With {@code restore} the open ones are in their grace period and the rules hear them.
   */
  private List<Change> adopt(List<IncidentStore.Stored> stored, Instant now, boolean restore) {
    Map<String, Tracked> before = new LinkedHashMap<>(open);
    Set<String> resolvedBefore = new HashSet<>();
    resolved.forEach(i -> resolvedBefore.add(i.getId()));
    open.clear();
    resolved.clear();
    restored.clear();
    List<Change> changes = new ArrayList<>();
    for (IncidentStore.Stored s : stored) {
      Incident incident = s.incident();
      if (incident.getState() == IncidentState.INCIDENT_STATE_OPEN) {
        Tracked known = before.get(s.key());
        Tracked tracked;
        if (known != null && known.incident().getId().equals(incident.getId())
            && known.incident().getTimelineCount() >= incident.getTimelineCount()) {
          tracked = known; // what is in memory may hold entries still queued for the store
        } else {
          Finding finding = Finding.fromKey(s.key(), incident.getSummary());
          Map<EvidenceSource, Integer> counts = new EnumMap<>(EvidenceSource.class);
          incident.getTimelineList().forEach(e -> counts.merge(e.getSource(), 1, Integer::sum));
          tracked = new Tracked(finding, incident, counts);
        }
        open.put(s.key(), tracked);
        if (known == null || !known.incident().getId().equals(incident.getId())) {
          changes.add(new Change(incident, true));
        }
        if (restore) {
          restored.add(s.key());
          Finding finding = tracked.finding();
          rules.stream().filter(rule -> rule.rule() == finding.rule()).forEach(rule -> rule.restored(finding));
        }
      } else {
        resolved.addLast(incident);
        if (!resolvedBefore.contains(incident.getId())
            && before.values().stream().anyMatch(t -> t.incident().getId().equals(incident.getId()))) {
          changes.add(new Change(incident, false));
        }
      }
    }
    return changes;
  }

  /** Adds evidence to the timeline of every open incident it concerns. */
  public void evidence(Evidence evidence) {
    if (leaderTerm.getAsLong() == 0) {
      return; // only the leader writes timelines
    }
    synchronized (this) {
      for (Map.Entry<String, Tracked> entry : open.entrySet()) {
        Tracked tracked = entry.getValue();
        Instant openedAt = ProtoTime.instant(tracked.incident().getOpenedAt());
        if (concerns(tracked.finding(), openedAt, evidence)) {
          Tracked extended = append(tracked, evidence, true);
          if (extended != tracked) {
            entry.setValue(extended);
          }
        }
      }
    }
  }

  /** Incidents newest first: the open ones, and unless {@code openOnly} the recently resolved. */
  public List<Incident> list(boolean openOnly) {
    catchUp();
    List<Incident> out = new ArrayList<>();
    synchronized (this) {
      open.values().forEach(t -> out.add(t.incident()));
      if (!openOnly) {
        out.addAll(resolved);
      }
    }
    out.sort(Comparator.comparing((Incident i) -> ProtoTime.instant(i.getOpenedAt())).reversed());
    return out;
  }

  private List<Change> evaluateLocked(Instant now) {
    Map<String, Finding> holding = new LinkedHashMap<>();
    for (IncidentRule rule : rules) {
      for (Finding finding : rule.findings(now)) {
        holding.putIfAbsent(finding.key(), finding);
      }
    }
    List<Change> changes = new ArrayList<>();
    boolean inGrace = now.isBefore(graceUntil);
    if (!inGrace) {
      restored.clear();
    }
    for (var it = open.entrySet().iterator(); it.hasNext();) {
      var entry = it.next();
      if (holding.containsKey(entry.getKey()) || (inGrace && restored.contains(entry.getKey()))) {
        continue;
      }
      it.remove();
      restored.remove(entry.getKey());
      Incident done = entry.getValue().incident().toBuilder()
          .setState(IncidentState.INCIDENT_STATE_RESOLVED)
          .setResolvedAt(ProtoTime.timestamp(now))
          .build();
      persist("resolve " + done.getId(), () -> store.resolved(done.getId(), now));
      resolved.addFirst(done);
      while (resolved.size() > RECENT_RESOLVED) {
        resolved.removeLast();
      }
      changes.add(new Change(done, false));
    }
    for (Finding finding : holding.values()) {
      if (open.containsKey(finding.key())) {
        continue;
      }
      Incident incident = Incident.newBuilder()
          .setId(newId())
          .setRule(finding.rule().name())
          .setState(IncidentState.INCIDENT_STATE_OPEN)
          .setSummary(finding.summary())
          .setHostName(finding.host())
          .setDeployment(finding.deployment())
          .setService(finding.service())
          .setOpenedAt(ProtoTime.timestamp(now))
          .build();
      Tracked tracked = new Tracked(finding, incident, new EnumMap<>(EvidenceSource.class));
      List<Evidence> before = new ArrayList<>(timeline.around(finding, now));
      before.removeIf(e -> !concerns(finding, now, e));
      before.sort(Comparator.comparing(Evidence::at));
      for (Evidence e : before) {
        tracked = append(tracked, e, false);
      }
      Tracked opened = tracked;
      IncidentStore.Stored already = persisted("store " + incident.getId(),
          () -> store.opened(finding.key(), opened.incident()));
      if (already != null && !already.incident().getId().equals(incident.getId())) {
        // Another leader opened it first (an overlap at a hand-over): carry that one on.
        Map<EvidenceSource, Integer> counts = new EnumMap<>(EvidenceSource.class);
        already.incident().getTimelineList().forEach(e -> counts.merge(e.getSource(), 1, Integer::sum));
        tracked = new Tracked(finding, already.incident(), counts);
      }
      open.put(finding.key(), tracked);
      changes.add(new Change(tracked.incident(), true));
    }
    return changes;
  }

  private Tracked append(Tracked tracked, Evidence evidence, boolean persist) {
    Incident incident = tracked.incident();
    int fromSource = tracked.perSource().getOrDefault(evidence.source(), 0);
    if (incident.getTimelineCount() >= MAX_TIMELINE || fromSource >= MAX_PER_SOURCE) {
      return tracked;
    }
    TimelineEntry entry = TimelineEntry.newBuilder()
        .setAt(ProtoTime.timestamp(evidence.at()))
        .setSource(evidence.source())
        .setText(evidence.text())
        .build();
    tracked.perSource().put(evidence.source(), fromSource + 1);
    if (persist) {
      persist("append to " + incident.getId(), () -> store.appended(incident.getId(), entry));
    }
    List<TimelineEntry> entries = new ArrayList<>(incident.getTimelineList());
    entries.add(entry);
    if (entries.size() > 1 && ProtoTime.instant(entry.getAt())
        .isBefore(ProtoTime.instant(entries.get(entries.size() - 2).getAt()))) {
      entries.sort(Comparator.comparing((TimelineEntry t) -> ProtoTime.instant(t.getAt())));
    }
    return new Tracked(tracked.finding(), incident.toBuilder().clearTimeline().addAllTimeline(entries).build(),
        tracked.perSource());
  }

  /** Whether a piece of evidence belongs on the timeline of the finding's incident. */
  static boolean concerns(Finding finding, Instant openedAt, Evidence e) {
    if (!finding.subject().isEmpty()) {
      return e.identity().equals(finding.subject())
          || (e.source() == EvidenceSource.EVIDENCE_SOURCE_SECURITY && e.text().contains(finding.subject()));
    }
    if (!finding.host().isEmpty() && !finding.host().equals(e.host())) {
      return false;
    }
    if (!finding.deployment().isEmpty()) {
      boolean deploymentScoped = finding.host().isEmpty()
          || e.source() == EvidenceSource.EVIDENCE_SOURCE_CONSOLE
          || e.source() == EvidenceSource.EVIDENCE_SOURCE_PIPELINE;
      if (deploymentScoped ? !finding.deployment().equals(e.deployment())
          : !e.deployment().isEmpty() && !finding.deployment().equals(e.deployment())) {
        return false;
      }
    }
    if (e.source() == EvidenceSource.EVIDENCE_SOURCE_CONSOLE) {
      if (!finding.service().isEmpty() && !finding.service().equals(e.service())) {
        return false;
      }
      return !e.at().isBefore(openedAt.minus(CONSOLE_WINDOW)) && !e.at().isAfter(openedAt.plus(CONSOLE_WINDOW));
    }
    return true;
  }

  private void notify(List<Change> changes) {
    for (Change change : changes) {
      for (Listener listener : listeners) {
        if (change.opened()) {
          listener.opened(change.incident());
        } else {
          listener.resolved(change.incident());
        }
      }
    }
  }

  private String newId() {
    byte[] bytes = new byte[5];
    random.nextBytes(bytes);
    return "inc-" + HexFormat.of().formatHex(bytes);
  }

  /**
   * Writes through to the store. A store that fails (a full disk, a broken database) must not
   * stop incidents from opening and resolving live: the failure is logged and the in-memory
   * view, which the operations API and Watch serve, stays right.
   */
  private void persist(String what, Runnable write) {
    try {
      write.run();
    } catch (RuntimeException e) {
      STORE_LOG.error("incident store: cannot {}: {}; the incident is kept in memory", what, e.getMessage());
    }
  }

  /** Like {@link #persist}, for a write that answers; null when the store failed. */
  private <T> T persisted(String what, java.util.function.Supplier<T> write) {
    try {
      return write.get();
    } catch (RuntimeException e) {
      STORE_LOG.error("incident store: cannot {}: {}; the incident is kept in memory", what, e.getMessage());
      return null;
    }
  }

  private List<IncidentStore.Stored> loadStored() {
    try {
      return store.load(RECENT_RESOLVED);
    } catch (RuntimeException e) {
      STORE_LOG.error("incident store: cannot load incidents: {}; starting with none", e.getMessage());
      return List.of();
    }
  }

  private static final org.slf4j.Logger STORE_LOG = org.slf4j.LoggerFactory.getLogger(Incidents.class);
}
