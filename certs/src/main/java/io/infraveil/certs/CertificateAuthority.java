package io.infraveil.certs;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The installation's certificate authority (EC P-256). It signs identities into certificates;
 * the identity always comes from the caller's authorization decision, never from a CSR's
 * subject, so a host cannot ask for somebody else's name.
 */
public final class CertificateAuthority {

  public static final String CA_CERT_FILE = "ca.crt";
  public static final String CA_KEY_FILE = "ca.key";
  private static final Duration CA_LIFETIME = Duration.ofDays(3650);
  private static final Duration BACKDATE = Duration.ofMinutes(5);

  private final X509Certificate certificate;
  private final PrivateKey key;
  private final String trustDomain;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  public CertificateAuthority(X509Certificate certificate, PrivateKey key, Clock clock) {
    this.certificate = Objects.requireNonNull(certificate, "certificate");
    this.key = Objects.requireNonNull(key, "key");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.trustDomain = PeerIdentity.trustDomainOfCa(certificate);
  }

  /** Makes a new self-signed CA for {@code trustDomain}. */
  public static CertificateAuthority create(String trustDomain, Clock clock) {
    Objects.requireNonNull(clock, "clock");
    new Identity(trustDomain, Identity.Kind.HOST, "probe"); // validates the domain
    KeyPair pair = KeyPairs.ecP256();
    Instant now = clock.instant();
    X500Name name = new X500Name("CN=Infraveil CA " + trustDomain + ",O=Infraveil");
    try {
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
          name, serial(new SecureRandom()), Date.from(now.minus(BACKDATE)),
          Date.from(now.plus(CA_LIFETIME)), name, pair.getPublic());
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
      builder.addExtension(Extension.subjectKeyIdentifier, false,
          utils.createSubjectKeyIdentifier(pair.getPublic()));
      builder.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://" + trustDomain)));
      X509Certificate certificate = sign(builder, pair.getPrivate());
      return new CertificateAuthority(certificate, pair.getPrivate(), clock);
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot create a CA for " + trustDomain, e);
    }
  }

  /** Loads {@code dir/ca.crt} and {@code dir/ca.key}. */
  public static CertificateAuthority load(Path dir, Clock clock) throws IOException {
    Path cert = dir.resolve(CA_CERT_FILE);
    Path key = dir.resolve(CA_KEY_FILE);
    if (!Files.exists(cert) || !Files.exists(key)) {
      throw new IOException("no CA in " + dir + ": expected " + CA_CERT_FILE + " and "
          + CA_KEY_FILE + " (run `infraveil certs init --dir " + dir + "`)");
    }
    return new CertificateAuthority(Pem.readCertificate(cert), Pem.readPrivateKey(key), clock);
  }

  /** Writes {@code dir/ca.crt} and {@code dir/ca.key} (0600). */
  public void save(Path dir) throws IOException {
    Pem.writePublic(dir.resolve(CA_CERT_FILE), Pem.encode(certificate));
    Pem.writeSecret(dir.resolve(CA_KEY_FILE), Pem.encode(key));
  }

  /**
   * Issues a certificate for {@code identity} over {@code publicKey}. Extra SANs (DNS names or
   * IP literals) are for servers. Client and server usage are both allowed so that a host
   * identity can be used on either side of a local connection.
   */
  public X509Certificate issue(PublicKey publicKey, Identity identity, Duration lifetime,
      Collection<String> extraSans) {
    Objects.requireNonNull(publicKey, "publicKey");
    Objects.requireNonNull(identity, "identity");
    if (!identity.trustDomain().equals(trustDomain)) {
      throw new IllegalArgumentException("identity " + identity + " is outside trust domain " + trustDomain);
    }
    Instant now = clock.instant();
    return issueBetween(publicKey, identity, now.minus(BACKDATE), now.plus(lifetime), extraSans);
  }

  /** Issues with an explicit validity period; tests use it to make expired certificates. */
  public X509Certificate issueBetween(PublicKey publicKey, Identity identity, Instant notBefore,
      Instant notAfter, Collection<String> extraSans) {
    try {
      List<GeneralName> names = new ArrayList<>();
      names.add(new GeneralName(GeneralName.uniformResourceIdentifier, identity.uri()));
      for (String san : extraSans) {
        names.add(isIpLiteral(san)
            ? new GeneralName(GeneralName.iPAddress, san)
            : new GeneralName(GeneralName.dNSName, san));
      }
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
          certificate, serial(random), Date.from(notBefore), Date.from(notAfter),
          new X500Name("CN=" + identity.name() + ",OU=" + identity.kind().path() + ",O=Infraveil"),
          publicKey);
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
          new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth}));
      builder.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(names.toArray(GeneralName[]::new)));
      builder.addExtension(Extension.authorityKeyIdentifier, false,
          utils.createAuthorityKeyIdentifier(certificate));
      return sign(builder, key);
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot issue a certificate for " + identity, e);
    }
  }

  /**
   * Signs a CSR after checking its proof of possession. The CSR's subject is ignored: the
   * certificate carries {@code identity}, decided by the caller.
   */
  public X509Certificate signCsr(PKCS10CertificationRequest csr, Identity identity, Duration lifetime) {
    try {
      PublicKey publicKey = new JcaPEMKeyConverter().getPublicKey(csr.getSubjectPublicKeyInfo());
      if (!"EC".equals(publicKey.getAlgorithm()) && !"ECDSA".equals(publicKey.getAlgorithm())) {
        throw new IllegalArgumentException("the CSR carries a " + publicKey.getAlgorithm()
            + " key; Infraveil issues EC P-256 only");
      }
      ContentVerifierProvider verifier = new JcaContentVerifierProviderBuilder().build(publicKey);
      if (!csr.isSignatureValid(verifier)) {
        throw new IllegalArgumentException("the CSR's signature does not verify: it was not made with the key it carries");
      }
      return issue(publicKey, identity, lifetime, List.of());
    } catch (OperatorCreationException | PKCSException | IOException e) {
      throw new IllegalArgumentException("the CSR cannot be read: " + e.getMessage(), e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public String trustDomain() {
    return trustDomain;
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
      throws OperatorCreationException, GeneralSecurityException {
    var contentSigner = new JcaContentSignerBuilder("SHA256withECDSA").build(signer);
    return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
  }

  private static BigInteger serial(SecureRandom random) {
    return new BigInteger(127, random).add(BigInteger.ONE);
  }

  private static boolean isIpLiteral(String san) {
    if (!san.matches("[0-9.]+") && !san.contains(":")) {
      return false;
    }
    try {
      InetAddress.getByName(san);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
