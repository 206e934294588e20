package io.infraveil.controlplane.hosts;

import io.grpc.Status;
import io.infraveil.controlplane.ServerPki;
import io.infraveil.controlplane.auth.OpenStreams;
import io.infraveil.controlplane.auth.SecurityEvents;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.store.CertificateStore;
import io.infraveil.controlplane.store.CertificateStore.IssuedCertificate;
import io.infraveil.controlplane.store.HostStore;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Revokes a host: every certificate it holds, at once, open streams included. */
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

  public HostRevocation(HostStore hosts, CertificateStore certificates, ServerPki pki,
      OpenStreams openStreams, SecurityEvents securityEvents, Clock clock, DesiredStates desiredStates,
      HostLiveness liveness) {
    this.liveness = liveness;
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
    Revoked revoked = revokeCertificates(hostName, why, "host " + hostName + " was revoked (" + why
        + "); its certificate may no longer be used");
    hosts.markRevoked(hostName, now);
    liveness.forget(hostName); // a revoked host is not "offline": nothing waits for it
    desiredStates.recomputeAll(); // nothing is placed on a revoked host
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
}
