package io.infraveil.launcher;

import io.grpc.ManagedChannel;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import io.infraveil.certs.PeerIdentity;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.host.grpc.HostIdentityFiles;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollResponse;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * First start of a host: makes the key pair here, writes host.key (0600) before anything leaves
 * the machine, sends only the CSR with the join token, then stores certificate, CA bundle,
 * host secret (0600) and, last, host.json. The token and the secret are never logged.
 */
public final class Enroller {

  private final HostIdentityFiles files;
  private final LauncherLog log;

  public Enroller(HostIdentityFiles files, LauncherLog log) {
    this.files = Objects.requireNonNull(files, "files");
    this.log = Objects.requireNonNull(log, "log");
  }

  /** True when the identity dir is complete and enrollment must be skipped. */
  public boolean isEnrolled() {
    return files.isComplete();
  }

  /**
   * Enrolls with the control plane at {@code controlPlane} (HOST:PORT) over TLS trusting only
   * {@code caFile}, presenting no client certificate; the one way both {@code launcher} (first
   * start) and {@code launcher enroll} enroll a host.
   */
  public HostIdentityFiles.HostInfo enroll(String controlPlane, Path caFile, String joinToken,
      String hostName, Map<String, String> labels) throws IOException {
    ManagedChannel anonymous = ControlPlaneChannels.anonymous(controlPlane, caFile,
        ControlPlaneChannels.Settings.DEFAULTS);
    try {
      return enroll(EnrollmentServiceGrpc.newBlockingStub(anonymous)
          .withDeadlineAfter(30, TimeUnit.SECONDS), joinToken, hostName, controlPlane, labels);
    } finally {
      anonymous.shutdownNow();
    }
  }

  /**
   * Enrolls over {@code stub}, which must be on a TLS channel trusting the installation CA and
   * presenting no client certificate.
   */
  public HostIdentityFiles.HostInfo enroll(EnrollmentServiceGrpc.EnrollmentServiceBlockingStub stub,
      String joinToken, String hostName, String controlPlane) throws IOException {
    return enroll(stub, joinToken, hostName, controlPlane, Map.of());
  }

  /** As above, offering {@code labels} for placement (merged with the token's). */
  public HostIdentityFiles.HostInfo enroll(EnrollmentServiceGrpc.EnrollmentServiceBlockingStub stub,
      String joinToken, String hostName, String controlPlane, Map<String, String> labels)
      throws IOException {
    Objects.requireNonNull(joinToken, "joinToken");
    Objects.requireNonNull(hostName, "hostName");
    KeyPair keys = KeyPairs.ecP256();
    files.writeKey(keys.getPrivate());
    log.event("enroll_start", "name", hostName, "control_plane", controlPlane);
    EnrollResponse response = stub.enroll(EnrollRequest.newBuilder()
        .setJoinToken(joinToken)
        .setHostName(hostName)
        .setCsrPem(Csrs.createPem(keys, hostName))
        .putAllLabels(labels)
        .build());
    X509Certificate certificate = Pem.certificate(response.getCertificatePem());
    if (!certificate.getPublicKey().equals(keys.getPublic())) {
      throw new IOException("the enrollment answer certifies another key than the one this host made");
    }
    String trustDomain = PeerIdentity.identityOf(certificate)
        .filter(id -> id.isHost() && id.name().equals(hostName))
        .orElseThrow(() -> new IOException("the enrollment answer does not certify host "
            + hostName))
        .trustDomain();
    files.writeCertificates(response.getCertificatePem(), response.getCaBundlePem());
    files.writeSecret(response.getHostSecret().toByteArray());
    HostIdentityFiles.HostInfo info =
        new HostIdentityFiles.HostInfo(hostName, controlPlane, trustDomain);
    files.writeHostInfo(info);
    log.event("enrolled", "name", hostName, "identity", response.getIdentity(),
        "not_after", certificate.getNotAfter().toInstant());
    return info;
  }
}
