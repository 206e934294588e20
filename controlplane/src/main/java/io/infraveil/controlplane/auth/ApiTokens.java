package io.infraveil.controlplane.auth;

import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.payload.Sha256Hex;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;

/**
 * Bearer tokens for the HTTP operations API. A token is {@code ivt_} and 32 random bytes; it is
 * shown once and only its SHA-256 is stored, so a copy of the database grants nothing.
 */
@Singleton
public final class ApiTokens {

  public static final String PREFIX = "ivt_";
  public static final Duration DEFAULT_TTL = Duration.ofDays(1);
  public static final Duration MAX_TTL = Duration.ofDays(365);

  /** A token just made. */
  public record Created(String token, Instant expiresAt) {}

  /** Who a valid token speaks for. */
  public record TokenHolder(String name, String createdBy, Instant expiresAt) {}

  private final Jdbc jdbc;
  private final Clock clock;
  private final SecureRandom random;

  public ApiTokens(Jdbc jdbc, Clock clock, SecureRandom random) {
    this.jdbc = jdbc;
    this.clock = clock;
    this.random = random;
  }

  public Created create(String name, Duration ttl, String createdBy) {
    if (ttl.isNegative() || ttl.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException("ttl " + ttl + " is out of range: give 1 s to " + MAX_TTL.toDays() + " days");
    }
    Duration lifetime = ttl.isZero() ? DEFAULT_TTL : ttl;
    byte[] secret = new byte[32];
    random.nextBytes(secret);
    String token = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    Instant now = clock.instant();
    Instant expiresAt = now.plus(lifetime);
    jdbc.update("store API token " + name, "INSERT INTO api_tokens (token_hash, name, created_by, created_at, "
        + "expires_at) VALUES (?, ?, ?, ?, ?)", s -> {
          s.setString(1, hash(token));
          s.setString(2, name);
          s.setString(3, createdBy);
          s.setTimestamp(4, Timestamp.from(now));
          s.setTimestamp(5, Timestamp.from(expiresAt));
        });
    return new Created(token, expiresAt);
  }

  /** The holder of a valid, unexpired token; empty for anything else. */
  public Optional<TokenHolder> verify(String token) {
    if (token == null || !token.startsWith(PREFIX) || token.length() > 200) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    return jdbc.queryOne("look up an API token", "SELECT name, created_by, expires_at FROM api_tokens "
            + "WHERE token_hash = ?", s -> s.setString(1, hash(token)),
        r -> new TokenHolder(r.getString("name"), r.getString("created_by"), r.getTimestamp("expires_at").toInstant()))
        .filter(holder -> now.isBefore(holder.expiresAt()));
  }

  /** True while the token with this SHA-256 exists and has not expired (dashboard sessions ask). */
  public boolean holdsHash(String tokenHash) {
    Instant now = clock.instant();
    return jdbc.queryOne("look up an API token by hash", "SELECT expires_at FROM api_tokens WHERE token_hash = ?",
        s -> s.setString(1, tokenHash), r -> r.getTimestamp("expires_at").toInstant())
        .filter(now::isBefore).isPresent();
  }

  /** The SHA-256 (hex) under which a token is stored. */
  public static String hash(String token) {
    return Sha256Hex.format(Sha256Hex.newDigest().digest(token.getBytes(StandardCharsets.UTF_8)));
  }
}
