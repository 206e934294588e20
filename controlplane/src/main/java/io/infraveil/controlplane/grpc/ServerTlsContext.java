package io.infraveil.controlplane.grpc;

import io.infraveil.certs.RecordingTrustManager;
import io.infraveil.certs.SessionTickets;
import io.infraveil.certs.TlsContexts;
import io.infraveil.certs.TlsProvider;
import io.infraveil.controlplane.ControlPlaneSettings;
import io.infraveil.controlplane.ServerPki;
import io.infraveil.controlplane.auth.SecurityEvents;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.micronaut.context.annotation.Value;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * The gRPC server's TLS context: the server certificate, the CA as the only trust for client
 * certificates (each refusal recorded as a security event), and session tickets whose keys
 * come from {@code tls-session-ticket.secret} in the data dir, so hosts reconnecting after a
 * restart resume their sessions instead of doing full handshakes. Revocation is not a
 * handshake matter here: {@code AuthorizationInterceptor} checks it on every call, resumed
 * sessions included. At most {@code infraveil.grpc.max-concurrent-handshakes} handshakes run
 * at once (by default 4096 with BoringSSL, 64 with the JDK's TLS); later connections wait their
 * turn (see {@link HandshakeLimiter}).
 */
@Singleton
public final class ServerTlsContext {

  /** Where the session-ticket secret lives, in the data dir. */
  public static final String TICKET_SECRET_FILE = "tls-session-ticket.secret";

  private final SslContext context;
  private final HandshakeLimiter handshakes;
  private final SessionTickets tickets;
  private final Clock clock;
  private final SecurityEvents securityEvents;
  /**
   * Refused handshakes are reported from Netty's event loop, which must not wait on the
   * database: they are recorded on this thread instead, and a flood beyond its queue is
   * dropped (the log line of each recorded one says what happened).
   */
  private final ThreadPoolExecutor recorder = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
      new ArrayBlockingQueue<>(1_000), runnable -> daemon(runnable, "refused-handshake-recorder"),
      new ThreadPoolExecutor.DiscardPolicy());
  private final ScheduledExecutorService rotation =
      Executors.newSingleThreadScheduledExecutor(runnable -> daemon(runnable, "tls-ticket-key-rotation"));

  public ServerTlsContext(ServerPki pki, ControlPlaneSettings settings, SecurityEvents securityEvents, Clock clock,
      @Value("${infraveil.grpc.max-concurrent-handshakes:0}") int maxConcurrentHandshakes) {
    this.securityEvents = securityEvents;
    this.handshakes = new HandshakeLimiter(maxConcurrentHandshakes > 0 ? maxConcurrentHandshakes
        : defaultHandshakeBound());
    this.clock = clock;
    try {
      this.context = TlsContexts.server(pki.serverChain(), pki.serverKey(), pki.trustedCas(),
          ClientAuth.OPTIONAL, this::refused);
      this.tickets = SessionTickets.loadOrCreate(dataDir(settings).resolve(TICKET_SECRET_FILE));
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the server TLS context: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or make the TLS session-ticket secret in "
          + dataDir(settings) + ": " + e.getMessage(), e);
    }
    if (tickets.applyTo(context, clock.instant())) {
      // Hourly is well inside the rotation period: the key in use is never stale for long.
      rotation.scheduleWithFixedDelay(() -> tickets.applyTo(context, clock.instant()), 1, 1, TimeUnit.HOURS);
    }
  }

  /**
   * The bound when none is configured, measured with {@code ReconnectStorm} (bench/README.md):
   * the JDK's full handshakes are slow, and unbounded a burst of them all passed the clients'
   * 10 s handshake timeout (11,545 failed attempts for 1,000 hosts; 148 with a bound of 64);
   * BoringSSL's, resumptions above all, are cheap, and a bound of 64 or 512 halved the rate at
   * which 3,000 resuming hosts came back, so the bound only caps bursts larger than that.
   */
  static int defaultHandshakeBound() {
    return TlsProvider.isOpenSsl() ? 4096 : 64;
  }

  private static Path dataDir(ControlPlaneSettings settings) {
    if (settings.dataDir() == null) {
      throw new IllegalStateException("no data dir configured: pass --data-dir DIR");
    }
    return settings.dataDir();
  }

  /** The context the gRPC server's TLS negotiation uses. */
  public SslContext sslContext() {
    return context;
  }

  /** The bound on handshakes in progress at once ({@code infraveil.grpc.max-concurrent-handshakes}). */
  public HandshakeLimiter handshakeLimiter() {
    return handshakes;
  }

  /**
   * Handshakes that resumed a session from a ticket since this server started (BoringSSL
   * counts them; zero with the JDK's provider, which does not say).
   */
  public long resumedHandshakes() {
    if (context.sessionContext() instanceof OpenSslSessionContext sessions) {
      return sessions.stats().ticketKeyResume() + sessions.stats().ticketKeyRenew();
    }
    return 0;
  }

  @PreDestroy
  void close() {
    rotation.shutdownNow();
    recorder.shutdown();
  }

  private void refused(RecordingTrustManager.RefusedClient client) {
    recorder.execute(() -> securityEvents.record("REFUSED_HANDSHAKE", client.identity(), null,
        "TLS handshake refused for client certificate " + client.subject()
            + (client.serialHex() == null ? "" : " (serial " + client.serialHex() + ")") + ": " + client.reason(),
        client.peer()));
  }

  private static Thread daemon(Runnable runnable, String name) {
    Thread thread = new Thread(runnable, name);
    thread.setDaemon(true);
    return thread;
  }
}
