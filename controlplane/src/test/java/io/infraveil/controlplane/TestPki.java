package io.infraveil.controlplane;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.certs.TlsContexts;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLException;

/** A PKI made at test time with the certs module, and mTLS channels built from it. */
final class TestPki {

  /** A client credential: certificate and key, or none. */
  record Credential(X509Certificate certificate, PrivateKey key) {}

  final PkiDirectory pki;
  final CertificateAuthority ca;

  /** Creates the PKI in {@code dir}, or loads it when a CA is already there (a restart). */
  TestPki(Path dir) throws IOException {
    this.pki = new PkiDirectory(dir, Clock.systemUTC());
    this.ca = java.nio.file.Files.exists(pki.caCertFile()) ? pki.ca() : pki.init("test.infraveil");
  }

  Credential operator(String name) {
    return issue(Identity.operator(ca.trustDomain(), name));
  }

  Credential host(String name) {
    return issue(Identity.host(ca.trustDomain(), name));
  }

  Credential issue(Identity identity) {
    KeyPair pair = KeyPairs.ecP256();
    return new Credential(ca.issue(pair.getPublic(), identity, Duration.ofHours(1), List.of()), pair.getPrivate());
  }

  Credential expired(Identity identity) {
    KeyPair pair = KeyPairs.ecP256();
    Instant now = Instant.now();
    return new Credential(ca.issueBetween(pair.getPublic(), identity, now.minus(Duration.ofDays(2)),
        now.minus(Duration.ofDays(1)), List.of()), pair.getPrivate());
  }

  /** A credential from a CA that is not this installation's. */
  static Credential foreign(String name) {
    CertificateAuthority other = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    KeyPair pair = KeyPairs.ecP256();
    return new Credential(other.issue(pair.getPublic(), Identity.operator("test.infraveil", name),
        Duration.ofHours(1), List.of()), pair.getPrivate());
  }

  ManagedChannel channel(int port, Credential credential) throws SSLException {
    return NettyChannelBuilder.forAddress("localhost", port)
        .sslContext(TlsContexts.client(List.of(ca.certificate()),
            credential == null ? null : List.of(credential.certificate()),
            credential == null ? null : credential.key()))
        .build();
  }
}
