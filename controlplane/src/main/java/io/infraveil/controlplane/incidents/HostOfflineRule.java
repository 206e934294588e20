package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.proto.v1.HostConnection;
import io.infraveil.proto.v1.HostReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * HOST_OFFLINE: a host that reported since the control plane started has missed 3 report
 * intervals (as {@link HostLiveness} derives it). Resolves when the host reports again. A host
 * that was offline when the control plane stopped stays offline until it reports.
 */
final class HostOfflineRule implements IncidentRule {

  /** Longest wait before hosts are scanned again, whatever their deadlines. */
  static final Duration RESCAN = Duration.ofSeconds(1);

  private final HostLiveness liveness;
  private final Set<String> restoredOffline = ConcurrentHashMap.newKeySet();
  private final LongAdder hostsExamined = new LongAdder();
  /** Guarded by this: what the last scan of every host found, and when to scan again. */
  private List<String> offlineAtScan = List.of();
  private Instant rescanAt = Instant.MIN;
  private Duration scannedInterval = Duration.ZERO;

  HostOfflineRule(HostLiveness liveness) {
    this.liveness = Objects.requireNonNull(liveness, "liveness");
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

  @Override
  public List<Finding> findings(Instant now) {
    List<Finding> out = new ArrayList<>();
    Duration interval = liveness.reportInterval();
    for (String host : offlineCandidates(now, interval)) {
      hostsExamined.increment();
      if (liveness.connection(host) == HostConnection.HOST_CONNECTION_OFFLINE) {
        String since = liveness.lastReportAt(host).map(Instant::toString).orElse("never");
        out.add(new Finding(Rule.HOST_OFFLINE, host, "", "", "", "host " + host + " missed 3 report "
            + "intervals (" + interval.multipliedBy(3).toSeconds() + " s); last report at " + since));
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

  /**
   * The hosts that may be offline at {@code now}: those offline at the last scan of every host,
   * until the earliest instant a host fresh then can miss its reports (at most {@link #RESCAN}
   * later, for hosts adopted since with older reports). The engine asks after every report, so
   * scanning every host each time made each report, and each connecting host, cost O(hosts)
   * under the engine's lock; now a scan happens at most once per deadline or {@link #RESCAN}.
   */
  private synchronized List<String> offlineCandidates(Instant now, Duration interval) {
    if (now.isBefore(rescanAt) && interval.equals(scannedInterval)) {
      return offlineAtScan;
    }
    Duration missed = interval.multipliedBy(3);
    Instant next = now.plus(RESCAN);
    List<String> offline = new ArrayList<>();
    for (String host : liveness.hosts()) {
      hostsExamined.increment();
      Optional<Instant> last = liveness.lastReportAt(host);
      Instant deadline = last.map(at -> at.plus(missed)).orElse(Instant.MIN);
      if (now.isBefore(deadline)) {
        next = deadline.isBefore(next) ? deadline : next;
      } else {
        offline.add(host);
      }
    }
    offlineAtScan = List.copyOf(offline);
    rescanAt = next;
    scannedInterval = interval;
    return offlineAtScan;
  }

  /** Hosts looked at so far (scans and candidates): the work this rule does, for tests and profiles. */
  long hostsExamined() {
    return hostsExamined.sum();
  }
}
