package io.infraveil.certs;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * PEM encoding of certificates, CSRs and keys. Private keys are always written as PKCS#8
 * ("PRIVATE KEY"), the form Netty accepts, with file mode 0600.
 */
public final class Pem {

  private Pem() {}

  public static String encode(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      if (object instanceof PrivateKey key) {
        writer.writeObject(new JcaPKCS8Generator(key, null));
      } else {
        writer.writeObject(object);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  public static String encodeAll(List<X509Certificate> certificates) {
    StringBuilder out = new StringBuilder();
    certificates.forEach(certificate -> out.append(encode(certificate)));
    return out.toString();
  }

  public static List<X509Certificate> certificates(String pem) {
    List<X509Certificate> out = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object;
      while ((object = parser.readObject()) != null) {
        if (object instanceof X509CertificateHolder holder) {
          out.add(new JcaX509CertificateConverter().getCertificate(holder));
        }
      }
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException("not a valid PEM certificate: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no CERTIFICATE block found in PEM input");
    }
    return out;
  }

  public static X509Certificate certificate(String pem) {
    return certificates(pem).get(0);
  }

  public static PrivateKey privateKey(String pem) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (object instanceof PEMKeyPair pair) {
        return converter.getPrivateKey(pair.getPrivateKeyInfo());
      }
      throw new IllegalArgumentException("expected a PRIVATE KEY block, found "
          + (object == null ? "nothing" : object.getClass().getSimpleName()));
    } catch (IOException e) {
      throw new IllegalArgumentException("not a valid PEM private key: " + e.getMessage(), e);
    }
  }

  public static PKCS10CertificationRequest csr(String pem) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object = parser.readObject();
      if (object instanceof PKCS10CertificationRequest csr) {
        return csr;
      }
      throw new IllegalArgumentException("expected a CERTIFICATE REQUEST block, found "
          + (object == null ? "nothing" : object.getClass().getSimpleName()));
    } catch (IOException e) {
      throw new IllegalArgumentException("not a valid PEM certificate request: " + e.getMessage(), e);
    }
  }

  public static X509Certificate readCertificate(Path file) throws IOException {
    return certificate(Files.readString(file));
  }

  public static List<X509Certificate> readCertificates(Path file) throws IOException {
    return certificates(Files.readString(file));
  }

  public static PrivateKey readPrivateKey(Path file) throws IOException {
    return privateKey(Files.readString(file));
  }

  /** Writes a public file (certificate, CSR), mode 0644. */
  public static void writePublic(Path file, String pem) throws IOException {
    write(file, pem, "rw-r--r--");
  }

  /** Writes a secret (private key), mode 0600, created with that mode before any byte lands. */
  public static void writeSecret(Path file, String pem) throws IOException {
    write(file, pem, "rw-------");
  }

  private static void write(Path file, String pem, String mode) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path temp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
    try {
      Files.writeString(temp, pem, StandardCharsets.US_ASCII);
      Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
