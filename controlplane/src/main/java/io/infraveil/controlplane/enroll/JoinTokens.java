package io.infraveil.controlplane.enroll;

import io.infraveil.controlplane.ControlPlaneSettings;
import io.infraveil.controlplane.store.JoinTokenStore;
import io.infraveil.controlplane.store.JoinTokenStore.JoinTokenRecord;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;

/**
 * One-time, expiring join tokens. Only the SHA-256 of a token is stored; the token is shown
 * once, to the operator who made it.
 */
@Singleton
public final class JoinTokens {

  private static final String PREFIX = "ivj_";

  /** A token as created. */
  public record Created(String token, Instant expiresAt) {}

  /** Why a token was refused: each says which and what to do. */
  public enum Refusal {
    UNKNOWN("the join token is not known: ask an operator for a new one (infraveil ctl tokens create NAME)"),
    ALREADY_USED("the join token was already used: tokens are single-use, ask an operator for a new one"),
    EXPIRED("the join token has expired: ask an operator for a new one"),
    WRONG_HOST("the join token was made for another host name: enroll with the name it was made for");

    private final String message;

    Refusal(String message) {
      this.message = message;
    }

    public String message() {
      return message;
    }
  }

  /** The outcome of consuming a token: the record, or why it was refused. */
  public record Consumed(JoinTokenRecord token, Refusal refusal) {
    public boolean accepted() {
      return refusal == null;
    }
  }

  private final JoinTokenStore store;
  private final ControlPlaneSettings settings;
  private final Clock clock;
  private final SecureRandom random;

  public JoinTokens(JoinTokenStore store, ControlPlaneSettings settings, Clock clock, SecureRandom random) {
    this.store = store;
    this.settings = settings;
    this.clock = clock;
    this.random = random;
  }

  public Created create(String hostName, Duration ttl, Map<String, String> labels, String createdBy) {
    byte[] secret = new byte[32];
    random.nextBytes(secret);
    String token = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    Instant now = clock.instant();
    Duration lifetime = ttl == null || ttl.isZero() ? settings.joinTokenTtl() : ttl;
    Instant expiresAt = now.plus(lifetime);
    store.insert(new JoinTokenRecord(hash(token), hostName, labels, createdBy, now, expiresAt, null));
    return new Created(token, expiresAt);
  }

  /** Uses the token for {@code hostName}; at most one caller ever succeeds for a token. */
  public Consumed consume(String token, String hostName) {
    var found = store.find(hash(token == null ? "" : token));
    if (found.isEmpty()) {
      return new Consumed(null, Refusal.UNKNOWN);
    }
    JoinTokenRecord record = found.get();
    if (record.usedAt() != null) {
      return new Consumed(record, Refusal.ALREADY_USED);
    }
    Instant now = clock.instant();
    if (!now.isBefore(record.expiresAt())) {
      return new Consumed(record, Refusal.EXPIRED);
    }
    if (!record.hostName().equals(hostName)) {
      return new Consumed(record, Refusal.WRONG_HOST);
    }
    if (!store.consume(record.tokenHash(), now)) {
      return new Consumed(record, Refusal.ALREADY_USED);
    }
    return new Consumed(record, null);
  }

  static String hash(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
