package io.infraveil.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSslContext;
import io.netty.handler.ssl.SslProvider;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** On the platform the release ships natives for, contexts are BoringSSL's, not the JDK's. */
class TlsProviderTest {

  @Test
  void boringSslIsChosenOnLinuxX8664() throws Exception {
    assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux")
        && List.of("amd64", "x86_64").contains(System.getProperty("os.arch"))
        && !Boolean.getBoolean("io.netty.handler.ssl.noOpenSsl"), "natives ship for linux-x86_64");
    assertEquals(SslProvider.OPENSSL, TlsProvider.chosen());

    CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    KeyPair pair = KeyPairs.ecP256();
    var certificate = ca.issue(pair.getPublic(), Identity.host("test.infraveil", "web-1"),
        Duration.ofHours(1), List.of());
    assertInstanceOf(OpenSslContext.class, TlsContexts.server(List.of(certificate), pair.getPrivate(),
        List.of(ca.certificate()), ClientAuth.REQUIRE));
    assertInstanceOf(OpenSslContext.class, TlsContexts.client(List.of(ca.certificate()),
        List.of(certificate), pair.getPrivate()));
  }
}
