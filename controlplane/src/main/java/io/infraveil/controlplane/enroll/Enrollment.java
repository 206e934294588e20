package io.infraveil.controlplane.enroll;

import io.grpc.Status;
import io.infraveil.certs.Identity;
import io.infraveil.certs.Pem;
import io.infraveil.controlplane.ControlPlaneSettings;
import io.infraveil.controlplane.MasterKey;
import io.infraveil.controlplane.ServerPki;
import io.infraveil.controlplane.auth.SecurityEvents;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.hosts.HostRevocation;
import io.infraveil.controlplane.store.CertificateStore;
import io.infraveil.controlplane.store.CertificateStore.IssuedCertificate;
import io.infraveil.controlplane.store.HostStore;
import jakarta.inject.Singleton;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * Turns join tokens and CSRs into host certificates. The host's key never travels: the CSR
 * proves possession, and the identity in the certificate comes from the token, not the CSR.
 *
 * <p>A name is held by one machine at a time: while a host of that name has a live (unexpired,
 * unrevoked) certificate, enrolling the name again is refused unless the token was made with
 * {@code replace}, which revokes the old certificates and closes their streams first. Both the
 * refusal and the replacement are security events.
 */
@Singleton
public final class Enrollment {

  private static final String ENROLL_METHOD = "infraveil.v1.EnrollmentService/Enroll";

  /** What a host receives at enrollment. */
  public record Enrolled(X509Certificate certificate, String caBundlePem, Identity identity, byte[] hostSecret) {}

  private final JoinTokens joinTokens;
  private final ServerPki pki;
  private final HostStore hosts;
  private final CertificateStore certificates;
  private final MasterKey masterKey;
  private final SecurityEvents securityEvents;
  private final ControlPlaneSettings settings;
  private final Clock clock;
  private final SecureRandom random;
  private final DesiredStates desiredStates;
  private final HostRevocation revocation;

  public Enrollment(JoinTokens joinTokens, ServerPki pki, HostStore hosts, CertificateStore certificates,
      MasterKey masterKey, SecurityEvents securityEvents, ControlPlaneSettings settings, Clock clock,
      SecureRandom random, DesiredStates desiredStates, HostRevocation revocation) {
    this.desiredStates = desiredStates;
    this.revocation = revocation;
    this.joinTokens = joinTokens;
    this.pki = pki;
    this.hosts = hosts;
    this.certificates = certificates;
    this.masterKey = masterKey;
    this.securityEvents = securityEvents;
    this.settings = settings;
    this.clock = clock;
    this.random = random;
  }

  public Enrolled enroll(String token, String hostName, String csrPem, Map<String, String> offeredLabels,
      String peer) {
    if (!Identity.isValidName(hostName)) {
      throw Status.INVALID_ARGUMENT.withDescription("host name \"" + hostName + "\" is invalid: use "
          + "lower-case letters, digits, dots and dashes").asRuntimeException();
    }
    PKCS10CertificationRequest csr = parseCsr(csrPem);
    JoinTokens.Consumed consumed = joinTokens.consume(token, hostName);
    if (!consumed.accepted()) {
      String message = "enrollment of host " + hostName + " refused: " + consumed.refusal().message();
      securityEvents.record("BAD_JOIN_TOKEN", null, ENROLL_METHOD,
          message + " (" + consumed.refusal() + ")", peer);
      throw Status.PERMISSION_DENIED.withDescription(message).asRuntimeException();
    }
    List<IssuedCertificate> live = revocation.liveCertificates(hostName);
    if (!live.isEmpty()) {
      IssuedCertificate newest = live.get(live.size() - 1);
      if (!consumed.token().replace()) {
        String message = "enrollment of host " + hostName + " refused: a host of that name is enrolled"
            + " and holds a live certificate (serial " + newest.serial() + ", valid until "
            + newest.notAfter() + "). If this machine replaces it, create a token with"
            + " `infraveil ctl tokens create " + hostName + " --replace` (revokes the old certificate),"
            + " or revoke the old host first with `infraveil ctl revoke " + hostName + "`; otherwise"
            + " enroll this machine under another name";
        securityEvents.record("ENROLLMENT_REFUSED_LIVE_HOST", null, ENROLL_METHOD, message, peer);
        throw Status.FAILED_PRECONDITION.withDescription(message).asRuntimeException();
      }
      var replaced = revocation.revokeCertificates(hostName, "replaced by a new enrollment with a"
          + " --replace token made by " + consumed.token().createdBy(), "host " + hostName
          + " was replaced by a new enrollment of the same name; this certificate may no longer be used");
      securityEvents.record("HOST_REPLACED", consumed.token().createdBy(), ENROLL_METHOD, "host " + hostName
          + " re-enrolled with a --replace token: " + live.size() + " live certificate(s) revoked (newest "
          + newest.serial() + "), " + replaced.closedStreams() + " open stream(s) closed", peer);
    }
    Identity identity = Identity.host(pki.trustDomain(), hostName);
    X509Certificate certificate = sign(csr, identity, hostName);
    byte[] hostSecret = new byte[32];
    random.nextBytes(hostSecret);
    Map<String, String> labels = new TreeMap<>(offeredLabels);
    labels.putAll(consumed.token().labels()); // the operator's labels win over the host's
    hosts.upsert(hostName, identity.uri(), labels, masterKey.seal(hostSecret, secretContext(hostName)),
        clock.instant());
    desiredStates.recompute(List.of(hostName)); // label-targeted deployments may now include this host
    return new Enrolled(certificate, pki.caBundlePem(), identity, hostSecret);
  }

  /** Signs a fresh CSR for a host that is already enrolled and calls with its certificate. */
  public X509Certificate renew(String hostName, String csrPem) {
    var host = hosts.find(hostName).orElseThrow(() -> Status.NOT_FOUND
        .withDescription("host " + hostName + " is not enrolled").asRuntimeException());
    if (host.revoked()) {
      throw Status.PERMISSION_DENIED.withDescription("host " + hostName + " is revoked; enroll again")
          .asRuntimeException();
    }
    return sign(parseCsr(csrPem), Identity.host(pki.trustDomain(), hostName), hostName);
  }

  /** The host's secret, for MACs and key wrapping. */
  public byte[] hostSecret(String hostName) {
    var host = hosts.find(hostName).orElseThrow(() -> new IllegalStateException("host " + hostName + " is not enrolled"));
    return masterKey.open(host.hostSecretSealed(), secretContext(hostName));
  }

  private X509Certificate sign(PKCS10CertificationRequest csr, Identity identity, String hostName) {
    X509Certificate certificate;
    try {
      certificate = pki.ca().signCsr(csr, identity, settings.hostCertificateLifetime());
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
    }
    certificates.recordIssued(new IssuedCertificate(certificate.getSerialNumber().toString(16),
        identity.uri(), hostName, certificate.getNotBefore().toInstant(),
        certificate.getNotAfter().toInstant(), clock.instant()));
    return certificate;
  }

  private static PKCS10CertificationRequest parseCsr(String csrPem) {
    try {
      return Pem.csr(csrPem);
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription("csr_pem: " + e.getMessage()).asRuntimeException();
    }
  }

  private static String secretContext(String hostName) {
    return "host-secret:" + hostName;
  }
}
