package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.proto.v1.HostConnection;
import io.infraveil.proto.v1.HostReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HOST_OFFLINE: a host that reported since the control plane started has missed 3 report
 * intervals (as {@link HostLiveness} derives it). Resolves when the host reports again. A host
 * that was offline when the control plane stopped stays offline until it reports.
 */
final class HostOfflineRule implements IncidentRule {

  private final HostLiveness liveness;
  private final Set<String> restoredOffline = ConcurrentHashMap.newKeySet();

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
    for (String host : liveness.hosts()) {
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
}
