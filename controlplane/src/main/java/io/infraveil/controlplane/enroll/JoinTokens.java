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

  /** A token as created, and how many older unused tokens for the name it cancelled. */
  public record Created(String token, Instant expiresAt, int superseded) {}

  /** Why a token was refused: each says which and what to do. */
  public enum Refusal {
    UNKNOWN("the join token is not known: ask an operator for a new one (infraveil ctl tokens create NAME)"),
    ALREADY_USED("the join token was already used: tokens are single-use, ask an operator for a new one"),
    EXPIRED("the join token has expired: ask an operator for a new one"),
    SUPERSEDED("a newer join token was made for this host name, which cancelled this one: enroll"
        + " with the newest token"),
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

  /** A token that may not replace a host holding a live certificate. */
  public Created create(String hostName, Duration ttl, Map<String, String> labels, String createdBy) {
    return create(hostName, ttl, labels, createdBy, false);
  }

  /**
   * Makes a token for {@code hostName}; older unused tokens for that name stop working. With
   * {@code replace} the token may enroll the name even while a host holds a live certificate
   * for it (see {@link Enrollment}).
   */
  public Created create(String hostName, Duration ttl, Map<String, String> labels, String createdBy,
      boolean replace) {
    byte[] secret = new byte[32];
    random.nextBytes(secret);
    String token = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    Instant now = clock.instant();
    Duration lifetime = ttl == null || ttl.isZero() ? settings.joinTokenTtl() : ttl;
    Instant expiresAt = now.plus(lifetime);
    int superseded = store.insertSuperseding(new JoinTokenRecord(hash(token), hostName, labels, createdBy,
        now, expiresAt, null, replace, null));
    return new Created(token, expiresAt, superseded);
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
    if (record.supersededAt() != null) {
      return new Consumed(record, Refusal.SUPERSEDED);
    }
    Instant now = clock.instant();
    if (!now.isBefore(record.expiresAt())) {
      return new Consumed(record, Refusal.EXPIRED);
    }
    if (!record.hostName().equals(hostName)) {
      return new Consumed(record, Refusal.WRONG_HOST);
    }
    if (!store.consume(record.tokenHash(), now)) {
      // Lost a race: used by another caller, or superseded a moment ago.
      return new Consumed(record, store.find(record.tokenHash()).map(JoinTokenRecord::supersededAt)
          .isPresent() ? Refusal.SUPERSEDED : Refusal.ALREADY_USED);
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
