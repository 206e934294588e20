package io.infraveil.controlplane.incidents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.host.time.MutableClock;
import io.infraveil.proto.v1.HostReport;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The engine asks the HOST_OFFLINE rule what holds after every report. What one report costs
 * must not grow with the fleet (it did: every report looked at every host, under the engine's
 * lock, and past a few thousand hosts new Sync streams waited on it); counted in hosts the rule
 * examines, not timed. And the rule still finds every host that stopped reporting on time.
 */
class HostOfflineRuleWorkTest {

  static final Duration INTERVAL = Duration.ofSeconds(10);
  static final HostReport REPORT = HostReport.getDefaultInstance();

  final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));

  @Test
  void aReportCostsTheSameWithHundredAndTenThousandHosts() {
    long small = hostsExaminedPerThousandReports(100);
    long large = hostsExaminedPerThousandReports(10_000);
    assertEquals(small, large, "hosts examined for 1,000 reports: " + small + " with 100 hosts, " + large
        + " with 10,000");
    assertTrue(large <= 1_000, "at most one host examined per report, not " + large + " for 1,000 reports");
  }

  /** A fleet that reported; then 1,000 more reports (0.5 ms apart) each followed by findings. */
  private long hostsExaminedPerThousandReports(int hosts) {
    HostLiveness liveness = new HostLiveness(clock);
    liveness.setReportInterval(INTERVAL);
    HostOfflineRule rule = new HostOfflineRule(liveness);
    liveness.reported("gone", REPORT); // one host that stops reporting: its finding is checked each time
    clock.advance(INTERVAL.multipliedBy(3));
    for (int i = 0; i < hosts; i++) {
      liveness.streamOpened("host-" + i);
      liveness.reported("host-" + i, REPORT);
    }
    assertEquals(List.of("gone"), hosts(rule.findings(clock.instant())));
    long before = rule.hostsExamined();
    for (int i = 0; i < 1_000; i++) {
      clock.advance(Duration.ofNanos(500_000));
      String host = "host-" + (i % hosts);
      liveness.reported(host, REPORT);
      rule.hostReported(host, REPORT);
      assertEquals(List.of("gone"), hosts(rule.findings(clock.instant())));
    }
    return rule.hostsExamined() - before;
  }

  @Test
  void aHostThatStopsReportingIsFoundAtItsDeadlineWhileOthersReport() {
    HostLiveness liveness = new HostLiveness(clock);
    liveness.setReportInterval(INTERVAL);
    HostOfflineRule rule = new HostOfflineRule(liveness);
    liveness.reported("quiet", REPORT);
    clock.advance(Duration.ofSeconds(5));
    liveness.reported("busy", REPORT);
    assertEquals(List.of(), hosts(rule.findings(clock.instant())));
    // busy reports every 100 ms; quiet's deadline is 30 s after its report.
    for (int step = 0; step < 249; step++) {
      clock.advance(Duration.ofMillis(100));
      liveness.reported("busy", REPORT);
      assertEquals(List.of(), hosts(rule.findings(clock.instant())), "at " + clock.instant());
    }
    clock.advance(Duration.ofMillis(100)); // 30 s after quiet's report
    assertEquals(List.of("quiet"), hosts(rule.findings(clock.instant())));
    liveness.reported("quiet", REPORT);
    assertEquals(List.of(), hosts(rule.findings(clock.instant())), "resolved as soon as it reports");
  }

  @Test
  void aHostAdoptedWithAnOldReportIsFoundWhenItsDeadlinePasses() {
    HostLiveness liveness = new HostLiveness(clock);
    liveness.setReportInterval(INTERVAL);
    HostOfflineRule rule = new HostOfflineRule(liveness);
    liveness.reported("here", REPORT);
    assertEquals(List.of(), hosts(rule.findings(clock.instant())));
    // Another replica held it; its last report was 29.5 s ago: it misses its reports in 0.5 s.
    liveness.adoptFromReplica("elsewhere", true, clock.instant().minusMillis(29_500), REPORT);
    clock.advance(Duration.ofMillis(400));
    assertEquals(List.of(), hosts(rule.findings(clock.instant())), "not before its deadline");
    clock.advance(Duration.ofMillis(200));
    assertEquals(List.of("elsewhere"), hosts(rule.findings(clock.instant())));
  }

  private static List<String> hosts(List<Finding> findings) {
    return findings.stream().map(Finding::host).toList();
  }
}
