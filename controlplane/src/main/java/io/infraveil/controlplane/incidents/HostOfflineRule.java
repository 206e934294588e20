package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.proto.v1.HostConnection;
import io.infraveil.proto.v1.HostReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HOST_OFFLINE: a host that reported since the control plane started has missed 3 report
 * intervals (as {@link HostLiveness} derives it). Resolves when the host reports again. A host
 * that was offline when the control plane stopped stays offline until it reports.
 *
 * <p>No scan of every host: each known host has one deadline in a queue (its last report plus 3
 * intervals, as it stood when the deadline was set). A due deadline reads the host's last
 * report again: a later one moves the deadline on, none makes the host offline. Only offline
 * hosts are looked at on every evaluation, so an evaluation costs the hosts that changed, not
 * the fleet.
 */
final class HostOfflineRule implements IncidentRule {

  private record Deadline(Instant at, String host) {}

  private final HostLiveness liveness;
  private final Set<String> restoredOffline = ConcurrentHashMap.newKeySet();
  /** Hosts with a deadline in the queue; read without the lock to keep a report's cost to one lookup. */
  private final Set<String> scheduled = ConcurrentHashMap.newKeySet();
  /** Guarded by itself: at most one deadline per host. */
  private final PriorityQueue<Deadline> deadlines = new PriorityQueue<>(Comparator.comparing(Deadline::at));
  /** Guarded by deadlines: hosts past their deadline, checked again on every evaluation. */
  private final Set<String> offline = new HashSet<>();
  /** Guarded by deadlines: hosts looked at by evaluations so far, so tests can count the work. */
  private long hostsExamined;

  HostOfflineRule(HostLiveness liveness) {
    this.liveness = Objects.requireNonNull(liveness, "liveness");
    liveness.addTouchListener(this::touched);
  }

  @Override
  public Rule rule() {
    return Rule.HOST_OFFLINE;
  }

  @Override
  public void restored(Finding finding) {
    restoredOffline.add(finding.host());
  }

  @Override
  public void hostReported(String host, HostReport report) {
    restoredOffline.remove(host);
  }

  /** The host's last report moved: it gets a deadline unless it has one (a due one reads the new instant). */
  private void touched(String host) {
    if (scheduled.contains(host)) {
      return;
    }
    synchronized (deadlines) {
      schedule(host);
    }
  }

  /** Guarded by deadlines. */
  private void schedule(String host) {
    Optional<Instant> last = liveness.lastReportAt(host);
    if (last.isPresent() && scheduled.add(host)) {
      deadlines.add(new Deadline(last.get().plus(window()), host));
    }
  }

  private Duration window() {
    return liveness.reportInterval().multipliedBy(3);
  }

  /** How many hosts evaluations have looked at so far (due deadlines and offline hosts). */
  long hostsExamined() {
    synchronized (deadlines) {
      return hostsExamined;
    }
  }

  @Override
  public List<Finding> findings(Instant now) {
    List<Finding> out = new ArrayList<>();
    synchronized (deadlines) {
      while (!deadlines.isEmpty() && !deadlines.peek().at().isAfter(now)) {
        String host = deadlines.poll().host();
        hostsExamined++;
        Optional<Instant> last = liveness.lastReportAt(host);
        Instant due = last.map(at -> at.plus(window())).orElse(null);
        if (due != null && due.isAfter(now)) {
          deadlines.add(new Deadline(due, host)); // it reported since: the deadline moves on
          continue;
        }
        scheduled.remove(host);
        if (due != null) {
          offline.add(host);
        } // else forgotten (revoked): neither online nor offline
      }
      for (var it = offline.iterator(); it.hasNext();) {
        String host = it.next();
        hostsExamined++;
        HostConnection connection = liveness.connection(host);
        if (connection == HostConnection.HOST_CONNECTION_OFFLINE) {
          String since = liveness.lastReportAt(host).map(Instant::toString).orElse("never");
          out.add(new Finding(Rule.HOST_OFFLINE, host, "", "", "", "host " + host + " missed 3 report "
              + "intervals (" + window().toSeconds() + " s); last report at " + since));
        } else {
          it.remove();
          schedule(host); // back (or forgotten, then nothing is scheduled)
        }
      }
    }
    for (String host : restoredOffline) {
      if (liveness.lastReportAt(host).isEmpty()) {
        out.add(new Finding(Rule.HOST_OFFLINE, host, "", "", "", "host " + host
            + " has not reported since the control plane restarted"));
      }
    }
    return out;
  }
}
