package io.infraveil.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.util.Optional;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client contexts from PEM files: the JDK reads what this project writes (PKCS#8 keys), other
 * key forms still work through BouncyCastle.
 */
class TlsContextsClientTest {

  @TempDir Path dir;

  @Test
  void readsProjectFilesWithTheJdkAndOtherKeyFormsWithBouncyCastle() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    ca.save(dir);
    Path caFile = dir.resolve(CertificateAuthority.CA_CERT_FILE);
    Path pkcs8 = dir.resolve(CertificateAuthority.CA_KEY_FILE);

    assertTrue(JdkPem.pkcs8Key(pkcs8).isPresent(), "the project writes PKCS#8");
    assertEquals(ca.certificate(), JdkPem.certificates(caFile).get(0));
    assertTrue(TlsContexts.client(caFile, caFile, pkcs8).isClient());
    assertTrue(TlsContexts.client(caFile, null, null).isClient());

    // An "EC PRIVATE KEY" (SEC1) file, as openssl ecparam writes: not for the JDK's parser.
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair pair = generator.generateKeyPair();
    Path sec1 = dir.resolve("sec1.key");
    try (JcaPEMWriter writer = new JcaPEMWriter(Files.newBufferedWriter(sec1))) {
      writer.writeObject(pair);
    }
    assertTrue(Files.readString(sec1).startsWith("-----BEGIN EC PRIVATE KEY-----"));
    assertEquals(Optional.empty(), JdkPem.pkcs8Key(sec1));
    // PKCS#8 after a text header (as openssl pkcs12 writes): the JDK path declines, Pem reads it.
    Path withHeader = dir.resolve("header.key");
    Files.writeString(withHeader, "Bag Attributes\n    localKeyID: 01\n" + Files.readString(pkcs8));
    assertEquals(Optional.empty(), JdkPem.pkcs8Key(withHeader));
    assertEquals(JdkPem.pkcs8Key(pkcs8).orElseThrow(), JdkPem.privateKeyOrPem(withHeader));
    assertEquals(Pem.readPrivateKey(pkcs8), JdkPem.privateKeyOrPem(pkcs8));
    assertEquals(ca.certificate(), JdkPem.certificatesOrPem(caFile).get(0));
  }

  // A launcher or agent reads its identity for the whole run: BouncyCastle's signed jar would
  // leave its manifest and signer tables on the heap. A fresh JVM shows what gets loaded.
  @Test
  void aReloadingClientReadsProjectFilesWithoutBouncyCastle() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    ca.save(dir);
    Path caFile = dir.resolve(CertificateAuthority.CA_CERT_FILE);
    Path key = dir.resolve(CertificateAuthority.CA_KEY_FILE);
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-Xlog:class+load=info", "-cp", System.getProperty("java.class.path"),
        ReloadingClientMain.class.getName(), caFile.toString(), key.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    assertTrue(out.contains("client context built"), out);
    assertTrue(out.contains("io.infraveil.certs.ReloadingKeyManager"), "the key manager loaded");
    assertTrue(!out.contains("org.bouncycastle."), "BouncyCastle loaded: "
        + out.lines().filter(l -> l.contains("org.bouncycastle.")).findFirst().orElse(""));
  }

  /** Builds a reloading client context from CA_FILE (also the certificate) and KEY_FILE. */
  public static final class ReloadingClientMain {
    public static void main(String[] args) throws Exception {
      Path ca = Path.of(args[0]);
      TlsContexts.reloadingClient(ca, ca, Path.of(args[1]));
      System.out.println("client context built");
    }
  }
}
