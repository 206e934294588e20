package io.infraveil.certs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A directory of PEM files as {@code infraveil certs} manages it: {@code ca.crt}, {@code ca.key}
 * and one {@code NAME.crt} / {@code NAME.key} pair per issued identity.
 */
public final class PkiDirectory {

  /** Lifetime of certificates issued from the command line (servers and operators). */
  public static final Duration DEFAULT_LIFETIME = Duration.ofDays(365);

  private final Path dir;
  private final Clock clock;

  public PkiDirectory(Path dir, Clock clock) {
    this.dir = Objects.requireNonNull(dir, "dir");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Creates the CA; refuses to overwrite one, since every certificate depends on it. */
  public CertificateAuthority init(String trustDomain) throws IOException {
    if (Files.exists(dir.resolve(CertificateAuthority.CA_KEY_FILE))) {
      throw new IOException("a CA already exists in " + dir + "; remove ca.crt and ca.key "
          + "first if you really mean to replace it (every issued certificate stops working)");
    }
    Files.createDirectories(dir);
    CertificateAuthority ca = CertificateAuthority.create(trustDomain, clock);
    ca.save(dir);
    return ca;
  }

  public CertificateAuthority ca() throws IOException {
    return CertificateAuthority.load(dir, clock);
  }

  /** Issues a certificate for a new key pair; writes NAME.crt and NAME.key (0600). */
  public Issued issue(Identity.Kind kind, String name, List<String> sans, Duration lifetime)
      throws IOException {
    CertificateAuthority ca = ca();
    Identity identity = new Identity(ca.trustDomain(), kind, name);
    KeyPair pair = KeyPairs.ecP256();
    X509Certificate certificate = ca.issue(pair.getPublic(), identity, lifetime, sans);
    Path certFile = dir.resolve(name + ".crt");
    Path keyFile = dir.resolve(name + ".key");
    Pem.writeSecret(keyFile, Pem.encode(pair.getPrivate()));
    Pem.writePublic(certFile, Pem.encode(certificate));
    return new Issued(identity, certFile, keyFile, certificate);
  }

  public Path caCertFile() {
    return dir.resolve(CertificateAuthority.CA_CERT_FILE);
  }

  public Path certFile(String name) {
    return dir.resolve(name + ".crt");
  }

  public Path keyFile(String name) {
    return dir.resolve(name + ".key");
  }

  public Path dir() {
    return dir;
  }

  /** What {@link #issue} wrote. */
  public record Issued(Identity identity, Path certFile, Path keyFile, X509Certificate certificate) {}
}
