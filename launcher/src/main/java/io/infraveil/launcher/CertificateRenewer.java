package io.infraveil.launcher;

import io.grpc.Channel;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.JdkPem;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import io.infraveil.host.grpc.HostIdentityFiles;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.RenewRequest;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Renews the host certificate over the existing mutual-TLS channel once two thirds of its
 * lifetime have passed, with a key pair made here (the private key never leaves the host).
 * Channels pick the new pair up at their next handshake.
 */
final class CertificateRenewer {

  /** What to do about the current certificate. */
  enum Action { RENEW, WAIT }

  /** Why. */
  enum Reason { TWO_THIRDS_OF_LIFETIME_PASSED, VALID_LONG_ENOUGH }

  /** A decision over the certificate's validity and the time. */
  record Decision(Action action, Duration delay, Reason reason) {}

  private static final Duration RETRY = Duration.ofMinutes(5);

  private final HostIdentityFiles identity;
  private final Channel channel;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final LauncherLog log;
  private final Duration maxCheckInterval;

  CertificateRenewer(HostIdentityFiles identity, Channel channel, Clock clock,
      ScheduledExecutorService scheduler, LauncherLog log, Duration maxCheckInterval) {
    this.identity = Objects.requireNonNull(identity, "identity");
    this.channel = Objects.requireNonNull(channel, "channel");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.log = Objects.requireNonNull(log, "log");
    this.maxCheckInterval = Objects.requireNonNull(maxCheckInterval, "maxCheckInterval");
  }

  static Decision decide(Instant notBefore, Instant notAfter, Instant now) {
    Instant renewAt = notBefore.plus(Duration.between(notBefore, notAfter).multipliedBy(2).dividedBy(3));
    if (!now.isBefore(renewAt)) {
      return new Decision(Action.RENEW, Duration.ZERO, Reason.TWO_THIRDS_OF_LIFETIME_PASSED);
    }
    return new Decision(Action.WAIT, Duration.between(now, renewAt), Reason.VALID_LONG_ENOUGH);
  }

  void start() {
    schedule(Duration.ZERO);
  }

  /** Checks once and renews if due; returns how long until the next check. */
  Duration check() {
    try {
      // The JDK's reader: a check every few hours loads no BouncyCastle (see JdkPem).
      X509Certificate current = JdkPem.certificatesOrPem(identity.certificateFile()).get(0);
      Decision decision = decide(current.getNotBefore().toInstant(), current.getNotAfter().toInstant(),
          clock.instant());
      if (decision.action() == Action.RENEW) {
        X509Certificate renewed = renewNow();
        log.event("certificate_renewed", "old_serial", current.getSerialNumber().toString(16),
            "new_serial", renewed.getSerialNumber().toString(16), "not_after", renewed.getNotAfter().toInstant(),
            "reason", decision.reason());
        return maxCheckInterval;
      }
      return decision.delay().compareTo(maxCheckInterval) < 0 ? decision.delay() : maxCheckInterval;
    } catch (Exception e) {
      log.event("certificate_renewal_failed", "error", e.getMessage(), "retry_in", RETRY);
      return RETRY;
    }
  }

  X509Certificate renewNow() throws Exception {
    KeyPair pair = KeyPairs.ecP256();
    var response = EnrollmentServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .renew(RenewRequest.newBuilder().setCsrPem(Csrs.createPem(pair, "renewal")).build());
    X509Certificate renewed = Pem.certificate(response.getCertificatePem());
    identity.installRenewed(pair.getPrivate(), response.getCertificatePem());
    return renewed;
  }

  private void schedule(Duration delay) {
    scheduler.schedule(() -> schedule(check()), delay.toMillis(), TimeUnit.MILLISECONDS);
  }
}
