package io.infraveil.controlplane;

import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.Pem;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.certs.RevocationList;
import io.infraveil.controlplane.store.CertificateStore;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * The control plane's view of the PKI: the CA that signs host CSRs, the server certificate it
 * presents, and the revocation list checked on every call.
 */
@Singleton
public final class ServerPki {

  private final CertificateAuthority ca;
  private final List<X509Certificate> serverChain;
  private final PrivateKey serverKey;
  private final RevocationList revocations;

  public ServerPki(ControlPlaneSettings settings, CertificateStore certificates, Clock clock) {
    if (settings.certsDir() == null) {
      throw new IllegalStateException("no PKI directory configured: pass --certs DIR "
          + "(made with `infraveil certs init --dir DIR`)");
    }
    try {
      PkiDirectory pki = new PkiDirectory(settings.certsDir(), clock);
      this.ca = pki.ca();
      String name = settings.serverName();
      if (!Files.exists(pki.certFile(name)) || !Files.exists(pki.keyFile(name))) {
        pki.issue(Identity.Kind.CONTROL_PLANE, name, defaultSans(), PkiDirectory.DEFAULT_LIFETIME);
      }
      this.serverChain = Pem.readCertificates(pki.certFile(name));
      this.serverKey = Pem.readPrivateKey(pki.keyFile(name));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load the PKI from " + settings.certsDir(), e);
    }
    this.revocations = new RevocationList(certificates.revokedSerials());
  }

  public CertificateAuthority ca() {
    return ca;
  }

  public List<X509Certificate> serverChain() {
    return serverChain;
  }

  public PrivateKey serverKey() {
    return serverKey;
  }

  public List<X509Certificate> trustedCas() {
    return List.of(ca.certificate());
  }

  public String caBundlePem() {
    return Pem.encode(ca.certificate());
  }

  public RevocationList revocations() {
    return revocations;
  }

  public String trustDomain() {
    return ca.trustDomain();
  }

  private static List<String> defaultSans() {
    List<String> sans = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
    try {
      sans.add(InetAddress.getLocalHost().getHostName());
    } catch (IOException unknownHostName) {
      // localhost and loopback addresses still work.
    }
    return sans;
  }
}
