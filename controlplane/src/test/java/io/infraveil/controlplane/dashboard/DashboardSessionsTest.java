package io.infraveil.controlplane.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.Engine;
import io.infraveil.controlplane.store.OnBothEngines;
import io.infraveil.host.time.MutableClock;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;

/** Link and session lifetimes with a fake clock, over the control plane's real schema (V9) on H2 and PostgreSQL. */
class DashboardSessionsTest {

  static final DashboardSessions.Principal ALICE = new DashboardSessions.Principal("spiffe://t/operator/alice",
      "spiffe://t/operator/alice", DashboardSessions.CredentialKind.OPERATOR_CERTIFICATE, "0a");

  MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));
  AtomicBoolean credentialHolds = new AtomicBoolean(true);
  Engine.TestDatabase database;

  /** Sessions over a fresh database of {@code engine}. */
  DashboardSessions sessions(Engine engine) {
    database = engine.open();
    return new DashboardSessions(database.jdbc(), clock, new SecureRandom(),
        new DashboardSettings(Duration.ofMinutes(5), Duration.ofHours(12)), principal -> credentialHolds.get());
  }

  @AfterEach
  void stop() {
    if (database != null) {
      database.close();
    }
  }

  @OnBothEngines
  void linkOpenedAtTheLastSecondWorksAndOneSecondLaterIsExpired(Engine engine) {
    DashboardSessions sessions = sessions(engine);
    var late = sessions.createLink(ALICE, Duration.ZERO);
    var tooLate = sessions.createLink(ALICE, Duration.ZERO);
    clock.advance(Duration.ofMinutes(5).minusSeconds(1));
    assertTrue(sessions.redeem(late.code()).session().isPresent());
    clock.advance(Duration.ofSeconds(1));
    assertEquals(DashboardSessions.LinkRefusal.EXPIRED, sessions.redeem(tooLate.code()).refusal().orElseThrow());
  }

  @OnBothEngines
  void sessionLastsItsTtlThenEnds(Engine engine) {
    DashboardSessions sessions = sessions(engine);
    var link = sessions.createLink(ALICE, Duration.ofHours(1));
    String id = sessions.redeem(link.code()).session().orElseThrow().id();
    clock.advance(Duration.ofMinutes(59));
    assertTrue(sessions.session(id).isPresent());
    clock.advance(Duration.ofMinutes(1));
    assertTrue(sessions.session(id).isEmpty(), "expired at exactly one hour");
  }

  @OnBothEngines
  void linkIsSingleUseAndUnknownCodesOpenNothing(Engine engine) {
    DashboardSessions sessions = sessions(engine);
    var link = sessions.createLink(ALICE, Duration.ZERO);
    var first = sessions.redeem(link.code());
    assertEquals(clock.instant().plus(Duration.ofHours(12)), first.session().orElseThrow().expiresAt());
    assertEquals(DashboardSessions.LinkRefusal.ALREADY_USED, sessions.redeem(link.code()).refusal().orElseThrow());
    assertEquals(DashboardSessions.LinkRefusal.UNKNOWN, sessions.redeem("ivl_unknown").refusal().orElseThrow());
    assertEquals(DashboardSessions.LinkRefusal.UNKNOWN, sessions.redeem(null).refusal().orElseThrow());
  }

  @OnBothEngines
  void aCredentialThatNoLongerHoldsEndsSessionsAndRefusesLinks(Engine engine) {
    DashboardSessions sessions = sessions(engine);
    String id = sessions.redeem(sessions.createLink(ALICE, Duration.ZERO).code()).session().orElseThrow().id();
    var link = sessions.createLink(ALICE, Duration.ZERO);
    credentialHolds.set(false);
    assertTrue(sessions.session(id).isEmpty());
    assertEquals(DashboardSessions.LinkRefusal.REVOKED, sessions.redeem(link.code()).refusal().orElseThrow());
  }

  @OnBothEngines
  void sessionTtlOutOfRangeIsRefused(Engine engine) {
    DashboardSessions sessions = sessions(engine);
    var e = assertThrows(IllegalArgumentException.class, () -> sessions.createLink(ALICE, Duration.ofDays(8)));
    assertTrue(e.getMessage().contains("7 days"), e.getMessage());
  }
}
