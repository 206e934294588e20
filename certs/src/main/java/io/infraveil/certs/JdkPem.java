package io.infraveil.certs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * PEM certificates and unencrypted PKCS#8 keys read with the JDK alone, for clients that start
 * often and briefly and for the host processes' identity (no BouncyCastle loaded for it);
 * {@link Pem} (BouncyCastle) remains the reader for everything else.
 */
public final class JdkPem {

  private static final String BEGIN = "-----BEGIN PRIVATE KEY-----";
  private static final String END = "-----END PRIVATE KEY-----";
  private static final List<String> ALGORITHMS = List.of("EC", "RSA", "Ed25519");

  private JdkPem() {}

  static List<X509Certificate> certificates(Path file) throws IOException, CertificateException {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> certs = CertificateFactory.getInstance("X.509")
          .generateCertificates(in).stream().map(X509Certificate.class::cast).toList();
      if (certs.isEmpty()) {
        throw new CertificateException("no certificate in " + file);
      }
      return certs;
    }
  }

  /**
   * The certificates of a PEM file, read by the JDK when it can, else by {@link Pem} (which also
   * names what is wrong). Host processes read their identity this way: BouncyCastle's jar is
   * signed, and the first class loaded from it makes the JDK keep the jar's whole manifest and
   * signer tables on the heap (about 7,000 entries, 2-3 MiB in every launcher and agent).
   */
  public static List<X509Certificate> certificatesOrPem(Path file) throws IOException {
    try {
      return certificates(file);
    } catch (CertificateException notForTheJdk) {
      return Pem.readCertificates(file);
    }
  }

  /** The private key of a PEM file: PKCS#8 (this project's form) by the JDK, else {@link Pem}. */
  public static PrivateKey privateKeyOrPem(Path file) throws IOException {
    Optional<PrivateKey> key = pkcs8Key(file);
    return key.isPresent() ? key.get() : Pem.readPrivateKey(file);
  }

  /** The key when the file holds exactly one unencrypted PKCS#8 key; empty for other forms. */
  static Optional<PrivateKey> pkcs8Key(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
    if (!text.startsWith(BEGIN) || !text.endsWith(END)) {
      return Optional.empty();
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(text.substring(BEGIN.length(),
          text.length() - END.length()));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    for (String algorithm : ALGORITHMS) {
      try {
        return Optional.of(KeyFactory.getInstance(algorithm)
            .generatePrivate(new PKCS8EncodedKeySpec(der)));
      } catch (GeneralSecurityException notThisOne) {
        // next algorithm
      }
    }
    return Optional.empty();
  }
}
