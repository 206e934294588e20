package io.infraveil.controlplane.dashboard;

import static java.util.Objects.requireNonNull;

import io.infraveil.controlplane.ServerPki;
import io.infraveil.controlplane.auth.ApiTokens;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.payload.Sha256Hex;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Sign-in links and browser sessions of the dashboard, stored in H2 (migration V9) as SHA-256
 * hashes only. A link is single use and short-lived; redeeming it makes a session bound to the
 * same principal and credential. A session is live while it has not expired, was not revoked
 * and its credential still holds (the operator certificate is not revoked, the API token has
 * not expired).
 */
@Singleton
public final class DashboardSessions {

  /** What a session's credential is. */
  public enum CredentialKind {
    /** An operator client certificate, identified by its serial (hex). */
    OPERATOR_CERTIFICATE,
    /** A bearer token from CreateApiToken, identified by its SHA-256. */
    API_TOKEN
  }

  /**
   * Who a link or session speaks for.
   *
   * @param name shown on the dashboard (an operator URI, or the API token's name and maker)
   * @param owner the operator accountable, whose revocation ends it
   * @param kind what the credential is
   * @param credential certificate serial or token hash
   */
  public record Principal(String name, String owner, CredentialKind kind, String credential) {
    public Principal {
      requireNonNull(name, "name");
      requireNonNull(owner, "owner");
      requireNonNull(kind, "kind");
      requireNonNull(credential, "credential");
    }
  }

  /** A link just made: the code is shown once. */
  public record Link(String code, Instant expiresAt, Instant sessionExpiresAt) {}

  /** Why a link opened nothing. */
  public enum LinkRefusal {
    UNKNOWN("this sign-in link is not known here (mistyped, or made by another control plane)"),
    ALREADY_USED("this sign-in link was already used; each link signs in once"),
    EXPIRED("this sign-in link expired before it was opened"),
    REVOKED("this sign-in link was revoked");

    private final String message;

    LinkRefusal(String message) {
      this.message = message;
    }

    public String message() {
      return message;
    }
  }

  /** The outcome of opening a link: a new session, or why not. */
  public record Redeemed(Optional<NewSession> session, Optional<LinkRefusal> refusal) {}

  /** A session just opened: the id goes into the cookie, once. */
  public record NewSession(String id, Principal principal, Instant expiresAt) {}

  /** A live session. */
  public record Session(Principal principal, Instant expiresAt) {}

  /** What the ends of a revocation were. */
  public record Revoked(int sessions, int links) {}

  static final String LINK_PREFIX = "ivl_";
  static final String SESSION_PREFIX = "ivs_";

  private final Jdbc jdbc;
  private final Clock clock;
  private final SecureRandom random;
  private final DashboardSettings settings;
  private final Predicate<Principal> credentialHolds;

  /** The control plane's: a certificate holds while not revoked, a token while it verifies. */
  @Inject
  public DashboardSessions(Jdbc jdbc, Clock clock, SecureRandom random, DashboardSettings settings,
      ServerPki pki, ApiTokens tokens) {
    this(jdbc, clock, random, settings, principal -> switch (principal.kind()) {
      case OPERATOR_CERTIFICATE -> !pki.revocations().isRevoked(principal.credential());
      case API_TOKEN -> tokens.holdsHash(principal.credential());
    });
  }

  public DashboardSessions(Jdbc jdbc, Clock clock, SecureRandom random, DashboardSettings settings,
      Predicate<Principal> credentialHolds) {
    this.jdbc = requireNonNull(jdbc, "jdbc");
    this.clock = requireNonNull(clock, "clock");
    this.random = requireNonNull(random, "random");
    this.settings = requireNonNull(settings, "settings");
    this.credentialHolds = requireNonNull(credentialHolds, "credentialHolds");
  }

  /** A one-time link for {@code principal}; {@code sessionTtl} zero means the default. */
  public Link createLink(Principal principal, Duration sessionTtl) {
    Duration ttl = sessionTtl.isZero() ? settings.sessionTtl() : sessionTtl;
    if (ttl.isNegative() || ttl.compareTo(DashboardSettings.MAX_SESSION_TTL) > 0) {
      throw new IllegalArgumentException("session ttl " + ttl + " is out of range: give 1 s to "
          + DashboardSettings.MAX_SESSION_TTL.toDays() + " days, or 0 for the default");
    }
    String code = LINK_PREFIX + secret();
    Instant now = clock.instant();
    Instant expiresAt = now.plus(settings.linkTtl());
    jdbc.update("store a dashboard sign-in link for " + principal.name(), "INSERT INTO dashboard_sign_in_links "
        + "(code_hash, principal, owner, credential_kind, credential, session_ttl_s, created_at, expires_at) "
        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", s -> {
          s.setString(1, hash(code));
          s.setString(2, principal.name());
          s.setString(3, principal.owner());
          s.setString(4, principal.kind().name());
          s.setString(5, principal.credential());
          s.setLong(6, ttl.toSeconds());
          s.setTimestamp(7, Timestamp.from(now));
          s.setTimestamp(8, Timestamp.from(expiresAt));
        });
    return new Link(code, expiresAt, expiresAt.plus(ttl));
  }

  /**
   * Opens a link once: marks it used (one UPDATE, so two browsers racing get one session) and
   * makes a session. A link whose credential no longer holds is refused as revoked.
   */
  public Redeemed redeem(String code) {
    if (code == null || !code.startsWith(LINK_PREFIX) || code.length() > 200) {
      return refused(LinkRefusal.UNKNOWN);
    }
    String codeHash = hash(code);
    Instant now = clock.instant();
    record Row(Principal principal, long ttlSeconds, Instant expiresAt, boolean used) {}
    Optional<Row> row = jdbc.queryOne("look up a dashboard sign-in link", "SELECT principal, owner, "
            + "credential_kind, credential, session_ttl_s, expires_at, used_at FROM dashboard_sign_in_links "
            + "WHERE code_hash = ?", s -> s.setString(1, codeHash),
        r -> new Row(new Principal(r.getString("principal"), r.getString("owner"),
            CredentialKind.valueOf(r.getString("credential_kind")), r.getString("credential")),
            r.getLong("session_ttl_s"), r.getTimestamp("expires_at").toInstant(), r.getTimestamp("used_at") != null));
    if (row.isEmpty()) {
      return refused(LinkRefusal.UNKNOWN);
    }
    if (row.get().used()) {
      return refused(LinkRefusal.ALREADY_USED);
    }
    if (!now.isBefore(row.get().expiresAt())) {
      return refused(LinkRefusal.EXPIRED);
    }
    int claimed = jdbc.update("mark a dashboard sign-in link used", "UPDATE dashboard_sign_in_links SET used_at = ? "
        + "WHERE code_hash = ? AND used_at IS NULL", s -> {
          s.setTimestamp(1, Timestamp.from(now));
          s.setString(2, codeHash);
        });
    if (claimed != 1) {
      return refused(LinkRefusal.ALREADY_USED);
    }
    Principal principal = row.get().principal();
    if (!credentialHolds.test(principal)) {
      return refused(LinkRefusal.REVOKED);
    }
    String id = SESSION_PREFIX + secret();
    Instant expiresAt = now.plusSeconds(row.get().ttlSeconds());
    jdbc.update("store a dashboard session for " + principal.name(), "INSERT INTO dashboard_sessions "
        + "(session_hash, principal, owner, credential_kind, credential, created_at, expires_at) "
        + "VALUES (?, ?, ?, ?, ?, ?, ?)", s -> {
          s.setString(1, hash(id));
          s.setString(2, principal.name());
          s.setString(3, principal.owner());
          s.setString(4, principal.kind().name());
          s.setString(5, principal.credential());
          s.setTimestamp(6, Timestamp.from(now));
          s.setTimestamp(7, Timestamp.from(expiresAt));
        });
    return new Redeemed(Optional.of(new NewSession(id, principal, expiresAt)), Optional.empty());
  }

  /** The live session with this id; empty when unknown, expired, revoked or its credential is gone. */
  public Optional<Session> session(String id) {
    if (id == null || !id.startsWith(SESSION_PREFIX) || id.length() > 200) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    return jdbc.queryOne("look up a dashboard session", "SELECT principal, owner, credential_kind, credential, "
            + "expires_at FROM dashboard_sessions WHERE session_hash = ? AND revoked_at IS NULL",
        s -> s.setString(1, hash(id)),
        r -> new Session(new Principal(r.getString("principal"), r.getString("owner"),
            CredentialKind.valueOf(r.getString("credential_kind")), r.getString("credential")),
            r.getTimestamp("expires_at").toInstant()))
        .filter(session -> now.isBefore(session.expiresAt()))
        .filter(session -> credentialHolds.test(session.principal()));
  }

  /** Ends one session (sign out); true if it was live. */
  public boolean revokeSession(String id) {
    if (id == null || !id.startsWith(SESSION_PREFIX)) {
      return false;
    }
    Instant now = clock.instant();
    return jdbc.update("revoke a dashboard session", "UPDATE dashboard_sessions SET revoked_at = ? "
        + "WHERE session_hash = ? AND revoked_at IS NULL", s -> {
          s.setTimestamp(1, Timestamp.from(now));
          s.setString(2, hash(id));
        }) == 1;
  }

  /** Ends every live session and unused link owned by {@code owner}. */
  public Revoked revokeAll(String owner) {
    Instant now = clock.instant();
    int sessions = jdbc.update("revoke the dashboard sessions of " + owner, "UPDATE dashboard_sessions "
        + "SET revoked_at = ? WHERE owner = ? AND revoked_at IS NULL AND expires_at > ?", s -> {
          s.setTimestamp(1, Timestamp.from(now));
          s.setString(2, owner);
          s.setTimestamp(3, Timestamp.from(now));
        });
    int links = jdbc.update("revoke the dashboard sign-in links of " + owner, "UPDATE dashboard_sign_in_links "
        + "SET used_at = ? WHERE owner = ? AND used_at IS NULL AND expires_at > ?", s -> {
          s.setTimestamp(1, Timestamp.from(now));
          s.setString(2, owner);
          s.setTimestamp(3, Timestamp.from(now));
        });
    // Sessions and links past their end are of no use to anyone: drop them here.
    jdbc.update("prune ended dashboard sessions", "DELETE FROM dashboard_sessions WHERE expires_at < ?",
        s -> s.setTimestamp(1, Timestamp.from(now.minus(Duration.ofDays(1)))));
    jdbc.update("prune ended dashboard sign-in links", "DELETE FROM dashboard_sign_in_links WHERE expires_at < ?",
        s -> s.setTimestamp(1, Timestamp.from(now.minus(Duration.ofDays(1)))));
    return new Revoked(sessions, links);
  }

  private Redeemed refused(LinkRefusal refusal) {
    return new Redeemed(Optional.empty(), Optional.of(refusal));
  }

  private String secret() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  static String hash(String secret) {
    return Sha256Hex.format(Sha256Hex.newDigest().digest(secret.getBytes(StandardCharsets.UTF_8)));
  }
}
