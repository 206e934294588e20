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
  private final Instant graceUntil;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  /** Guarded by this: open incidents by finding key. */
  private final Map<String, Tracked> open = new LinkedHashMap<>();
  /** Guarded by this: resolved incidents, newest first. */
  private final Deque<Incident> resolved = new ArrayDeque<>();
  /** Guarded by this: keys of open incidents loaded at start and still in their grace period. */
  private final Set<String> restored = new HashSet<>();

  public Incidents(List<IncidentRule> rules, IncidentStore store, TimelineSource timeline, Clock clock,
      RandomGenerator random, Duration restoreGrace) {
    this.rules = List.copyOf(rules);
    this.store = Objects.requireNonNull(store, "store");
    this.timeline = Objects.requireNonNull(timeline, "timeline");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.random = Objects.requireNonNull(random, "random");
    this.graceUntil = clock.instant().plus(restoreGrace);
    for (IncidentStore.Stored stored : loadStored()) {
      Incident incident = stored.incident();
      if (incident.getState() == IncidentState.INCIDENT_STATE_OPEN) {
        Finding finding = Finding.fromKey(stored.key(), incident.getSummary());
        Map<EvidenceSource, Integer> counts = new EnumMap<>(EvidenceSource.class);
        incident.getTimelineList().forEach(e -> counts.merge(e.getSource(), 1, Integer::sum));
        open.put(stored.key(), new Tracked(finding, incident, counts));
        restored.add(stored.key());
        rules.stream().filter(rule -> rule.rule() == finding.rule()).forEach(rule -> rule.restored(finding));
      } else {
        resolved.addLast(incident);
      }
    }
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  public void hostReported(String host, HostReport report) {
    rules.forEach(rule -> rule.hostReported(host, report));
    evaluate();
  }

  public void agentReported(ReportIngest.AgentReport report) {
    rules.forEach(rule -> rule.agentReported(report));
    evaluate();
  }

  public void event(ReportIngest.ReceivedEvent event) {
    rules.forEach(rule -> rule.event(event));
    evaluate();
  }

  public void securityEvent(SecurityEventRecord event) {
    rules.forEach(rule -> rule.securityEvent(event));
    evaluate();
  }

  /** Asks every rule what holds now; opens and resolves incidents accordingly. */
  public void evaluate() {
    List<Change> changes;
    synchronized (this) {
      changes = evaluateLocked(clock.instant());
    }
    notify(changes);
  }

  /** Adds evidence to the timeline of every open incident it concerns. */
  public void evidence(Evidence evidence) {
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
  public synchronized List<Incident> list(boolean openOnly) {
    List<Incident> out = new ArrayList<>();
    open.values().forEach(t -> out.add(t.incident()));
    if (!openOnly) {
      out.addAll(resolved);
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
      open.put(finding.key(), tracked);
      Tracked opened = tracked;
      persist("store " + incident.getId(), () -> store.opened(finding.key(), opened.incident()));
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
