package io.infraveil.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real TLS 1.3 handshakes between BoringSSL contexts: a host's second connection resumes its
 * session from a ticket, also after the server was rebuilt from the same secret (a restart),
 * and the resumed session still names the client certificate the first one verified.
 */
class SessionTicketsTest {

  @TempDir Path dir;
  CertificateAuthority ca;
  X509Certificate serverCert;
  KeyPair serverKey;
  X509Certificate hostCert;
  KeyPair hostKey;
  Instant now = Instant.parse("2026-11-30T12:00:00Z");

  @BeforeEach
  void pki() {
    assumeTrue(TlsProvider.isOpenSsl(), "session-ticket keys are BoringSSL's");
    ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    serverKey = KeyPairs.ecP256();
    serverCert = ca.issue(serverKey.getPublic(), new Identity("test.infraveil", Identity.Kind.CONTROL_PLANE, "controlplane"),
        Duration.ofHours(1), List.of("controlplane.test"));
    hostKey = KeyPairs.ecP256();
    hostCert = ca.issue(hostKey.getPublic(), Identity.host("test.infraveil", "web-1"), Duration.ofHours(1),
        List.of());
  }

  private SslContext server(SessionTickets tickets, Instant at) throws Exception {
    SslContext context = TlsContexts.server(List.of(serverCert), serverKey.getPrivate(), List.of(ca.certificate()),
        ClientAuth.OPTIONAL);
    assertTrue(tickets.applyTo(context, at));
    return context;
  }

  private SslContext host() throws Exception {
    return TlsContexts.client(List.of(ca.certificate()), List.of(hostCert), hostKey.getPrivate());
  }

  private static long resumed(SslContext server) {
    return ((OpenSslSessionContext) server.sessionContext()).stats().ticketKeyResume();
  }

  @Test
  void aSecondConnectionResumesAndStillNamesTheClientCertificate() throws Exception {
    SslContext server = server(SessionTickets.loadOrCreate(dir.resolve("ticket.secret")), now);
    SslContext host = host();

    InMemoryTls.Connection first = InMemoryTls.connect(server, host);
    assertEquals("TLSv1.3", first.server().getProtocol());
    assertEquals(0, resumed(server), "the first connection is a full handshake");
    InMemoryTls.Connection second = InMemoryTls.connect(server, host);

    assertEquals(1, resumed(server), "the second connection resumes from its ticket");
    assertEquals(hostCert, second.server().getPeerCertificates()[0],
        "a resumed session carries the certificate that per-call checks (revocation) read");
    assertEquals("spiffe://test.infraveil/host/web-1",
        PeerIdentity.fromSession(second.server()).orElseThrow().identity().uri());
  }

  @Test
  void ticketsIssuedBeforeARestartResumeAfterIt() throws Exception {
    Path secret = dir.resolve("ticket.secret");
    SslContext host = host();
    InMemoryTls.connect(server(SessionTickets.loadOrCreate(secret), now), host);

    SslContext restarted = server(SessionTickets.loadOrCreate(secret), now.plus(Duration.ofMinutes(5)));
    InMemoryTls.connect(restarted, host);

    assertEquals(1, resumed(restarted));
  }

  @Test
  void aTicketFromAnotherSecretOrPastTheRotationIsAFullHandshake() throws Exception {
    SslContext host = host();
    InMemoryTls.connect(server(SessionTickets.loadOrCreate(dir.resolve("a.secret")), now), host);

    SslContext other = server(SessionTickets.loadOrCreate(dir.resolve("b.secret")), now);
    InMemoryTls.connect(other, host);
    assertEquals(0, resumed(other), "another installation's ticket is not accepted");

    // Two rotations later neither the current nor the previous key made the host's ticket.
    SslContext later = server(SessionTickets.loadOrCreate(dir.resolve("b.secret")),
        now.plus(SessionTickets.ROTATION.multipliedBy(2)));
    InMemoryTls.connect(later, host);
    assertEquals(0, resumed(later));
  }

  @Test
  void theSecretIsPrivateAndAForeignFileIsRefused() throws Exception {
    Path secret = dir.resolve("ticket.secret");
    SessionTickets.loadOrCreate(secret);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
    byte[] first = Files.readAllBytes(secret);
    SessionTickets.loadOrCreate(secret);
    assertEquals(List.of(first.length), List.of(Files.readAllBytes(secret).length));
    assertNotEquals(0, first.length);

    Files.writeString(secret, "not a secret");
    IOException refused = assertThrows(IOException.class, () -> SessionTickets.loadOrCreate(secret));
    assertTrue(refused.getMessage().contains("delete it"), refused.getMessage());
  }
}
