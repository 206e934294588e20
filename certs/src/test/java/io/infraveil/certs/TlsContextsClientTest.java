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
  }
}
