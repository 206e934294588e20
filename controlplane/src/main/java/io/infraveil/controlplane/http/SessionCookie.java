package io.infraveil.controlplane.http;

import io.infraveil.controlplane.dashboard.DashboardPaths;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The dashboard's session cookie: HttpOnly (no script reads it), Secure (HTTPS only),
 * SameSite=Strict (never sent on a request another site starts), expiring with the session.
 */
final class SessionCookie {

  private SessionCookie() {}

  /** The Set-Cookie value for a new session. */
  static String set(String sessionId, Instant now, Instant expiresAt) {
    long maxAge = Math.max(1, (Duration.between(now, expiresAt).toMillis() + 999) / 1000);
    return DashboardPaths.COOKIE + "=" + sessionId + "; Path=/; Max-Age=" + maxAge
        + "; HttpOnly; Secure; SameSite=Strict";
  }

  /** The Set-Cookie value that makes the browser forget the cookie. */
  static String clear() {
    return DashboardPaths.COOKIE + "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict";
  }

  /** The session id from the request's Cookie headers, if one is there. */
  static Optional<String> read(List<String> cookieHeaders) {
    if (cookieHeaders == null) {
      return Optional.empty();
    }
    for (String header : cookieHeaders) {
      for (String pair : header.split(";")) {
        String trimmed = pair.trim();
        int eq = trimmed.indexOf('=');
        if (eq > 0 && trimmed.substring(0, eq).equals(DashboardPaths.COOKIE)) {
          String value = trimmed.substring(eq + 1).trim();
          if (!value.isEmpty()) {
            return Optional.of(value);
          }
        }
      }
    }
    return Optional.empty();
  }
}
