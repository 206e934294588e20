package io.infraveil.controlplane.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.Engine;
import io.infraveil.controlplane.store.OnBothEngines;
import io.infraveil.host.time.MutableClock;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;

/** API tokens stored by hash and valid until they expire, on H2 and PostgreSQL. */
class ApiTokensTest {

  @OnBothEngines
  void aTokenSpeaksForItsMakerUntilItExpires(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));
      ApiTokens tokens = new ApiTokens(db.jdbc(), clock, new SecureRandom());
      ApiTokens.Created created = tokens.create("ci", Duration.ofHours(1), "spiffe://t/operator/alice");

      ApiTokens.TokenHolder holder = tokens.verify(created.token()).orElseThrow();
      assertEquals("ci", holder.name());
      assertEquals("spiffe://t/operator/alice", holder.createdBy());
      assertEquals(created.expiresAt(), holder.expiresAt());
      assertTrue(tokens.holdsHash(ApiTokens.hash(created.token())));
      assertTrue(tokens.verify(created.token() + "x").isEmpty());
      assertEquals(0L, (long) db.jdbc().queryOne("find the token in the clear",
          "SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?", s -> s.setString(1, created.token()),
          r -> r.getLong(1)).orElseThrow(), "only the hash is stored");

      clock.advance(Duration.ofHours(1));
      assertTrue(tokens.verify(created.token()).isEmpty());
      assertFalse(tokens.holdsHash(ApiTokens.hash(created.token())));
    }
  }
}
