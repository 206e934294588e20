package io.infraveil.controlplane.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.ControlPlane;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.host.time.MutableClock;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Link and session lifetimes with a fake clock, over the control plane's real H2 schema (V9). */
class DashboardSessionsTest {

  static final DashboardSessions.Principal ALICE = new DashboardSessions.Principal("spiffe://t/operator/alice",
      "spiffe://t/operator/alice", DashboardSessions.CredentialKind.OPERATOR_CERTIFICATE, "0a");

  @TempDir Path dir;
  ControlPlane controlPlane;
  MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));
  AtomicBoolean credentialHolds = new AtomicBoolean(true);
  DashboardSessions sessions;

  @BeforeEach
  void start() throws Exception {
    new PkiDirectory(dir.resolve("pki"), java.time.Clock.systemUTC()).init("t");
    controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, Map.of());
    sessions = new DashboardSessions(controlPlane.bean(Jdbc.class), clock, new SecureRandom(),
        new DashboardSettings(Duration.ofMinutes(5), Duration.ofHours(12)), principal -> credentialHolds.get());
  }

  @AfterEach
  void stop() {
    controlPlane.close();
  }

  @Test
  void linkOpenedAtTheLastSecondWorksAndOneSecondLaterIsExpired() {
    var late = sessions.createLink(ALICE, Duration.ZERO);
    var tooLate = sessions.createLink(ALICE, Duration.ZERO);
    clock.advance(Duration.ofMinutes(5).minusSeconds(1));
    assertTrue(sessions.redeem(late.code()).session().isPresent());
    clock.advance(Duration.ofSeconds(1));
    assertEquals(DashboardSessions.LinkRefusal.EXPIRED, sessions.redeem(tooLate.code()).refusal().orElseThrow());
  }

  @Test
  void sessionLastsItsTtlThenEnds() {
    var link = sessions.createLink(ALICE, Duration.ofHours(1));
    String id = sessions.redeem(link.code()).session().orElseThrow().id();
    clock.advance(Duration.ofMinutes(59));
    assertTrue(sessions.session(id).isPresent());
    clock.advance(Duration.ofMinutes(1));
    assertTrue(sessions.session(id).isEmpty(), "expired at exactly one hour");
  }

  @Test
  void linkIsSingleUseAndUnknownCodesOpenNothing() {
    var link = sessions.createLink(ALICE, Duration.ZERO);
    var first = sessions.redeem(link.code());
    assertEquals(clock.instant().plus(Duration.ofHours(12)), first.session().orElseThrow().expiresAt());
    assertEquals(DashboardSessions.LinkRefusal.ALREADY_USED, sessions.redeem(link.code()).refusal().orElseThrow());
    assertEquals(DashboardSessions.LinkRefusal.UNKNOWN, sessions.redeem("ivl_unknown").refusal().orElseThrow());
    assertEquals(DashboardSessions.LinkRefusal.UNKNOWN, sessions.redeem(null).refusal().orElseThrow());
  }

  @Test
  void aCredentialThatNoLongerHoldsEndsSessionsAndRefusesLinks() {
    String id = sessions.redeem(sessions.createLink(ALICE, Duration.ZERO).code()).session().orElseThrow().id();
    var link = sessions.createLink(ALICE, Duration.ZERO);
    credentialHolds.set(false);
    assertTrue(sessions.session(id).isEmpty());
    assertEquals(DashboardSessions.LinkRefusal.REVOKED, sessions.redeem(link.code()).refusal().orElseThrow());
  }

  @Test
  void sessionTtlOutOfRangeIsRefused() {
    var e = assertThrows(IllegalArgumentException.class, () -> sessions.createLink(ALICE, Duration.ofDays(8)));
    assertTrue(e.getMessage().contains("7 days"), e.getMessage());
  }
}
