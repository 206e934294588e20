package io.infraveil.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client key manager follows renewed files and never presents a mismatched pair. */
class ReloadingKeyManagerTest {

  @TempDir Path dir;

  @Test
  void followsARenewedPairAndIgnoresAMismatchedOne() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    Identity host = Identity.host("test.infraveil", "web-1");
    KeyPair first = KeyPairs.ecP256();
    X509Certificate firstCert = ca.issue(first.getPublic(), host, Duration.ofHours(1), List.of());
    Path cert = dir.resolve("host.crt");
    Path key = dir.resolve("host.key");
    Pem.writePublic(cert, Pem.encode(firstCert));
    Pem.writeSecret(key, Pem.encode(first.getPrivate()));
    ReloadingKeyManager manager = new ReloadingKeyManager(cert, key);
    assertEquals(firstCert, manager.certificate());

    KeyPair second = KeyPairs.ecP256();
    X509Certificate secondCert = ca.issue(second.getPublic(), host, Duration.ofHours(1), List.of());
    Pem.writePublic(cert, Pem.encode(secondCert)); // mid-rotation: new certificate, old key
    Thread.sleep(1_100);
    assertEquals(firstCert, manager.certificate(), "a mismatched pair must not be presented");
    assertEquals(first.getPrivate(), manager.getPrivateKey("infraveil"));

    Pem.writeSecret(key, Pem.encode(second.getPrivate()));
    Thread.sleep(1_100);
    assertEquals(secondCert, manager.certificate());
    assertEquals(secondCert, manager.getCertificateChain("infraveil")[0]);
  }

  @Test
  void refusesToStartWithAMismatchedPair() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    X509Certificate cert = ca.issue(KeyPairs.ecP256().getPublic(), Identity.host("test.infraveil", "a"),
        Duration.ofHours(1), List.of());
    Pem.writePublic(dir.resolve("host.crt"), Pem.encode(cert));
    Pem.writeSecret(dir.resolve("host.key"), Pem.encode(KeyPairs.ecP256().getPrivate()));
    var error = assertThrows(IOException.class,
        () -> new ReloadingKeyManager(dir.resolve("host.crt"), dir.resolve("host.key")));
    assertEquals(true, error.getMessage().contains("do not belong together"), error.getMessage());
  }
}
