package io.infraveil.controlplane.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.JoinTokenStore.JoinTokenRecord;
import java.time.Instant;
import java.util.Map;

/** Join tokens: stored by hash, superseded by a newer one, consumed once; on H2 and PostgreSQL. */
class JoinTokenStoreTest {

  static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

  static JoinTokenRecord token(String hash, String host, Instant at, boolean replace) {
    return new JoinTokenRecord(hash, host, Map.of("zone", "a"), "spiffe://t/operator/alice", at,
        at.plusSeconds(3600), null, replace, null);
  }

  @OnBothEngines
  void aTokenRoundTripsAndIsConsumedExactlyOnce(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      JoinTokenStore tokens = new JoinTokenStore(db.jdbc());
      assertEquals(0, tokens.insertSuperseding(token("a".repeat(64), "web-1", T0, true)));

      JoinTokenRecord back = tokens.find("a".repeat(64)).orElseThrow();
      assertEquals(token("a".repeat(64), "web-1", T0, true), back);

      assertTrue(tokens.consume("a".repeat(64), T0.plusSeconds(5)));
      assertFalse(tokens.consume("a".repeat(64), T0.plusSeconds(6)), "a token enrolls once");
      assertEquals(T0.plusSeconds(5), tokens.find("a".repeat(64)).orElseThrow().usedAt());
      assertTrue(tokens.find("f".repeat(64)).isEmpty());
    }
  }

  @OnBothEngines
  void aNewerTokenForTheNameSupersedesTheUnusedOlderOnes(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      JoinTokenStore tokens = new JoinTokenStore(db.jdbc());
      tokens.insertSuperseding(token("a".repeat(64), "web-1", T0, false));
      tokens.insertSuperseding(token("b".repeat(64), "web-1", T0.plusSeconds(1), false));
      tokens.consume("b".repeat(64), T0.plusSeconds(2));
      tokens.insertSuperseding(token("c".repeat(64), "web-2", T0.plusSeconds(3), false));

      int superseded = tokens.insertSuperseding(token("d".repeat(64), "web-1", T0.plusSeconds(4), false));

      assertEquals(0, superseded, "a was superseded by b, b was used: nothing left to supersede");
      assertEquals(T0.plusSeconds(1), tokens.find("a".repeat(64)).orElseThrow().supersededAt());
      assertNull(tokens.find("b".repeat(64)).orElseThrow().supersededAt());
      assertNull(tokens.find("c".repeat(64)).orElseThrow().supersededAt(), "another name is untouched");
      assertFalse(tokens.consume("a".repeat(64), T0.plusSeconds(5)), "a superseded token cannot enroll");
      assertEquals(1, tokens.insertSuperseding(token("e".repeat(64), "web-1", T0.plusSeconds(6), false)));
      assertTrue(tokens.find("e".repeat(64)).isPresent());
    }
  }
}
