package io.infraveil.controlplane.hosts;

import io.grpc.Status;
import io.infraveil.controlplane.ServerPki;
import io.infraveil.controlplane.auth.OpenStreams;
import io.infraveil.controlplane.auth.SecurityEvents;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.replica.ChangeFeed;
import io.infraveil.controlplane.replica.ChangeKind;
import io.infraveil.controlplane.store.CertificateStore;
import io.infraveil.controlplane.store.CertificateStore.IssuedCertificate;
import io.infraveil.controlplane.store.HostStore;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Revokes a host: every certificate it holds, at once, open streams included, on every replica
 * (the change feed tells the others, which refuse the certificates and close their streams).
 */
@Singleton
public final class HostRevocation {

  /** What a revocation did. */
  public record Revoked(List<String> serials, int closedStreams) {}

  private final HostStore hosts;
  private final CertificateStore certificates;
  private final ServerPki pki;
  private final OpenStreams openStreams;
  private final SecurityEvents securityEvents;
  private final Clock clock;
  private final DesiredStates desiredStates;
  private final HostLiveness liveness;
  private final ChangeFeed changes;

  public HostRevocation(HostStore hosts, CertificateStore certificates, ServerPki pki,
      OpenStreams openStreams, SecurityEvents securityEvents, Clock clock, DesiredStates desiredStates,
      HostLiveness liveness, ChangeFeed changes) {
    this.liveness = liveness;
    this.changes = changes;
    this.desiredStates = desiredStates;
    this.hosts = hosts;
    this.certificates = certificates;
    this.pki = pki;
    this.openStreams = openStreams;
    this.securityEvents = securityEvents;
    this.clock = clock;
  }

  public Revoked revoke(String hostName, String reason, String byOperator) {
    hosts.find(hostName).orElseThrow(() -> Status.NOT_FOUND
        .withDescription("host " + hostName + " is not enrolled; `infraveil ctl hosts` lists the hosts")
        .asRuntimeException());
    Instant now = clock.instant();
    String why = reason == null || reason.isBlank() ? "revoked by " + byOperator : reason;
    String toCaller = "host " + hostName + " was revoked (" + why + "); its certificate may no longer be used";
    Revoked revoked = revokeAll(hostName, why, toCaller);
    hosts.markRevoked(hostName, now);
    changes.publish(ChangeKind.HOST_REVOKED, hostName, toCaller);
    liveness.forget(hostName); // a revoked host is not "offline": nothing waits for it
    desiredStates.recompute(java.util.List.of(hostName)); // nothing is placed on a revoked host
    securityEvents.record("HOST_REVOKED", byOperator, "infraveil.v1.OperatorService/RevokeHost",
        "host " + hostName + " revoked: " + why + "; " + revoked.serials().size() + " certificate(s), "
            + revoked.closedStreams() + " open stream(s) closed", null);
    return revoked;
  }

  /** The host's certificates that are neither expired nor revoked: the ones that still get in. */
  public List<IssuedCertificate> liveCertificates(String hostName) {
    Instant now = clock.instant();
    return certificates.forHost(hostName).stream()
        .filter(certificate -> now.isBefore(certificate.notAfter()))
        .filter(certificate -> !pki.revocations().isRevoked(certificate.serial()))
        .toList();
  }

  /**
   * Revokes every certificate of the host and closes the streams opened with them, telling
   * their callers {@code toCaller}; the host record itself is left alone (a replacement
   * enrollment keeps the name).
   */
  public Revoked revokeCertificates(String hostName, String why, String toCaller) {
    Revoked revoked = revokeAll(hostName, why, toCaller);
    if (!revoked.serials().isEmpty()) {
      changes.publish(ChangeKind.HOST_REVOKED, hostName, toCaller);
    }
    return revoked;
  }

  private Revoked revokeAll(String hostName, String why, String toCaller) {
    Instant now = clock.instant();
    List<String> serials = new ArrayList<>();
    int closed = 0;
    for (var certificate : certificates.forHost(hostName)) {
      certificates.revoke(certificate.serial(), now, why);
      pki.revocations().revoke(certificate.serial());
      serials.add(certificate.serial());
      closed += openStreams.closeAll(certificate.serial(), toCaller);
    }
    return new Revoked(serials, closed);
  }

  /**
   * Applies a revocation made by any replica, as stored: its certificates join the revocation
   * list checked on every call and handshake here, and the streams this replica holds with them
   * are closed with {@code toCaller}. Returns how many were closed.
   */
  public int applyStoredRevocation(String hostName, String toCaller) {
    java.util.Set<String> revoked = new java.util.HashSet<>();
    for (String serial : certificates.revokedSerials()) {
      pki.revocations().revoke(serial);
      revoked.add(new java.math.BigInteger(serial, 16).toString(16));
    }
    int closed = 0;
    for (var certificate : certificates.forHost(hostName)) {
      if (revoked.contains(new java.math.BigInteger(certificate.serial(), 16).toString(16))) {
        closed += openStreams.closeAll(certificate.serial(), toCaller);
      }
    }
    if (hosts.find(hostName).map(HostStore.HostRecord::revoked).orElse(false)) {
      liveness.forget(hostName);
    }
    return closed;
  }
}
