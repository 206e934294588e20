package io.infraveil.controlplane.http;

import io.infraveil.certs.Identity;
import io.infraveil.certs.PeerIdentity;
import io.infraveil.controlplane.ServerPki;
import io.infraveil.controlplane.auth.ApiTokens;
import io.infraveil.controlplane.auth.SecurityEvents;
import io.infraveil.controlplane.dashboard.DashboardSessions;
import java.util.Optional;
import javax.net.ssl.SSLSession;

/**
 * Who may read the operator's HTTP pages: an operator client certificate verified by the CA
 * (not revoked, this trust domain) or a bearer token made with CreateApiToken. No credentials
 * is 401 with how to authenticate; credentials of anyone else is 403 naming who they are, and
 * a security event.
 */
final class OperatorAccess {

  /**
   * The outcome: allowed (status 200) with who and the credential they used (what a dashboard
   * session is bound to), or refused with a status and a message.
   */
  record Decision(int status, String who, String message, DashboardSessions.Principal principal) {
    Decision(int status, String who, String message) {
      this(status, who, message, null);
    }

    boolean allowed() {
      return status == 200;
    }
  }

  static final String HOW = "present an operator client certificate issued by this installation's CA "
      + "(spiffe://<trust-domain>/operator/<name>), or send `Authorization: Bearer <token>` with a token "
      + "from the CreateApiToken RPC (`infraveil ctl tokens create-api NAME`); in a browser, open the one-time "
      + "link `infraveil ctl dashboard` prints";

  private final ServerPki pki;
  private final ApiTokens tokens;
  private final SecurityEvents securityEvents;

  OperatorAccess(ServerPki pki, ApiTokens tokens, SecurityEvents securityEvents) {
    this.pki = pki;
    this.tokens = tokens;
    this.securityEvents = securityEvents;
  }

  Decision decide(SSLSession session, String authorization, String path, String peer) {
    if (authorization != null && !authorization.isBlank()) {
      if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return refuse(401, null, path, peer, "the Authorization header must be `Bearer <token>`; " + HOW);
      }
      String token = authorization.substring(7).trim();
      Optional<ApiTokens.TokenHolder> holder = tokens.verify(token);
      if (holder.isEmpty()) {
        String shown = token.length() > 8 ? token.substring(0, 8) + "…" : token;
        return refuse(403, "bearer token " + shown, path, peer, "bearer token " + shown
            + " may not read " + path + ": it is unknown or expired; make a new one with CreateApiToken");
      }
      String who = "api-token " + holder.get().name() + " (made by " + holder.get().createdBy() + ")";
      return new Decision(200, who, "", new DashboardSessions.Principal(who, holder.get().createdBy(),
          DashboardSessions.CredentialKind.API_TOKEN, ApiTokens.hash(token)));
    }
    Optional<PeerIdentity.VerifiedPeer> peerIdentity = session == null ? Optional.empty()
        : PeerIdentity.fromSession(session);
    if (peerIdentity.isEmpty()) {
      return new Decision(401, null, "authentication required to read " + path + ": " + HOW);
    }
    Identity identity = peerIdentity.get().identity();
    if (!identity.trustDomain().equals(pki.trustDomain())) {
      return refuse(403, identity.uri(), path, peer, identity.uri() + " may not read " + path
          + ": its trust domain is not " + pki.trustDomain());
    }
    if (pki.revocations().isRevoked(peerIdentity.get().serialHex())) {
      return refuse(403, identity.uri(), path, peer, identity.uri() + " may not read " + path
          + ": its certificate is revoked");
    }
    if (!identity.isOperator()) {
      return refuse(403, identity.uri(), path, peer, identity.uri() + " may not read " + path
          + ": only operators may; a host certificate is not an operator credential");
    }
    return new Decision(200, identity.uri(), "", new DashboardSessions.Principal(identity.uri(), identity.uri(),
        DashboardSessions.CredentialKind.OPERATOR_CERTIFICATE, peerIdentity.get().serialHex()));
  }

  private Decision refuse(int status, String identity, String path, String peer, String message) {
    if (status == 403) {
      securityEvents.record("HTTP_FORBIDDEN", identity != null && identity.startsWith("spiffe://") ? identity : null,
          "GET " + path, message, peer);
    }
    return new Decision(status, identity, message);
  }
}
