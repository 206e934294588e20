package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.KeyPairs;
import io.infraveil.controlplane.auth.SecurityEvents;
import io.infraveil.controlplane.history.HistoryStore;
import io.infraveil.controlplane.history.HistoryWriter;
import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.controlplane.store.SecurityEventStore.SecurityEventRecord;
import io.infraveil.host.time.MutableClock;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.RenewRequest;
import io.infraveil.proto.v1.RevokeHostRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Security events are counted per caller and minute and pruned with history (real H2). */
class SecurityEventsTest {

  private static final String REVOKED = "spiffe://test.infraveil/host/web-1";

  @TempDir Path dir;
  OpsHarness harness;
  SecurityEventStore store;

  @BeforeEach
  void start() throws Exception {
    harness = new OpsHarness(dir, Map.of());
    store = harness.controlPlane.bean(SecurityEventStore.class);
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  @Test
  void identicalRefusalsOfOneCallerShareOneRowPerMinute() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));
    SecurityEvents events = new SecurityEvents(store, clock);
    List<Integer> seen = new ArrayList<>();
    events.addListener(event -> seen.add(event.occurrences()));

    // A revoked host retrying every second for three minutes, on each of its streams in turn.
    String[] methods = {"infraveil.v1.LauncherSyncService/Sync",
        "infraveil.v1.AgentReportService/Heartbeat", "infraveil.v1.AgentReportService/ShipLogs"};
    for (int i = 0; i < 180; i++) {
      events.record("REVOKED_CERTIFICATE", REVOKED, methods[i % 3],
          "certificate revoked (" + methods[i % 3] + ")", "/10.0.0.7:" + (40000 + i));
      clock.advance(Duration.ofSeconds(1));
    }
    // Another caller, and another kind from the same caller, are rows of their own.
    events.record("REVOKED_CERTIFICATE", "spiffe://test.infraveil/host/web-2",
        "infraveil.v1.LauncherSyncService/Sync", "certificate revoked", null);
    events.record("PERMISSION_DENIED", REVOKED, "infraveil.v1.LauncherSyncService/Sync", "other", null);

    List<SecurityEventRecord> stored = store.recent(100);
    assertEquals(5, stored.size(), stored.toString());
    List<SecurityEventRecord> revoked = stored.stream()
        .filter(e -> e.identity().equals(REVOKED) && e.kind().equals("REVOKED_CERTIFICATE")).toList();
    assertEquals(List.of(60, 60, 60), revoked.stream().map(SecurityEventRecord::occurrences).toList());
    SecurityEventRecord first = revoked.get(revoked.size() - 1);
    assertEquals(Instant.parse("2026-01-01T10:00:00Z"), first.at());
    assertEquals(Instant.parse("2026-01-01T10:00:59Z"), first.lastAt());
    assertEquals("/10.0.0.7:40000", first.peer(), "the row keeps the first occurrence's peer");
    assertEquals(methods[0], first.method(), "and its method");
    // Listeners (the incident rule) hear every occurrence, with its count in the row.
    assertEquals(182, seen.size());
    assertEquals(List.of(1, 2, 3), seen.subList(0, 3));
    assertEquals(1, seen.get(60), "a new minute starts a new row");
  }

  @Test
  void aRevokedLauncherRetryingGrowsTheTableByOneRowPerMinute() throws Exception {
    OpsHarness.EnrolledHost host = harness.enroll("web-1");
    harness.operator().revokeHost(RevokeHostRequest.newBuilder().setHostName("web-1").setReason("stolen").build());
    harness.controlPlane.bean(HistoryWriter.class).flush();
    long historyBefore = harness.controlPlane.bean(HistoryStore.class).count();
    var stub = EnrollmentServiceGrpc.newBlockingStub(harness.channel(host.credential()));
    RenewRequest renew = RenewRequest.newBuilder().setCsrPem(Csrs.createPem(KeyPairs.ecP256(), "web-1")).build();

    for (int i = 0; i < 40; i++) {
      var refused = assertThrows(StatusRuntimeException.class,
          () -> stub.withDeadlineAfter(10, TimeUnit.SECONDS).renew(renew));
      assertEquals(Status.Code.PERMISSION_DENIED, refused.getStatus().getCode());
    }

    List<SecurityEventRecord> revoked = store.recent(100).stream()
        .filter(e -> e.kind().equals("REVOKED_CERTIFICATE")).toList();
    // 40 refusals within a few seconds: one row, two if a minute boundary fell in between.
    assertTrue(revoked.size() <= 2, revoked.toString());
    assertEquals(40, revoked.stream().mapToInt(SecurityEventRecord::occurrences).sum());
    harness.controlPlane.bean(HistoryWriter.class).flush();
    long historyAdded = harness.controlPlane.bean(HistoryStore.class).count() - historyBefore;
    // History keeps the first refusal of each row, not all 40 (refused calls are not traced).
    assertEquals(revoked.size(), historyAdded);
  }

  @Test
  void securityEventsArePrunedWithHistory() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));
    SecurityEvents events = new SecurityEvents(store, clock);
    events.record("BAD_JOIN_TOKEN", null, "infraveil.v1.EnrollmentService/Enroll", "old", null);
    clock.advance(Duration.ofDays(8));
    events.record("BAD_JOIN_TOKEN", null, "infraveil.v1.EnrollmentService/Enroll", "recent", null);

    int deleted = harness.controlPlane.bean(HistoryStore.class).pruneBefore(clock.instant().minus(Duration.ofDays(7)));

    assertTrue(deleted >= 1, "deleted " + deleted);
    assertEquals(List.of("recent"), store.recent(100).stream()
        .filter(e -> e.kind().equals("BAD_JOIN_TOKEN")).map(SecurityEventRecord::message).toList());
  }
}
