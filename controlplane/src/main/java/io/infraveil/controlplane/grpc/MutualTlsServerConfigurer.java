package io.infraveil.controlplane.grpc;

import io.grpc.ServerBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.infraveil.certs.RecordingTrustManager;
import io.infraveil.certs.TlsContexts;
import io.infraveil.controlplane.ServerPki;
import io.infraveil.controlplane.auth.SecurityEvents;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.netty.handler.ssl.ClientAuth;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Puts mutual TLS on the gRPC server before it starts. The listener is typed on
 * {@code ServerBuilder<?>} (the bean type micronaut-grpc publishes); the builder must be Netty's,
 * and anything else stops the start rather than serve plaintext.
 *
 * <p>Client certificates are OPTIONAL at the TLS layer only because Enroll must be callable
 * without one; {@code AuthorizationInterceptor} refuses every other call that lacks one.
 */
@Singleton
final class MutualTlsServerConfigurer implements BeanCreatedEventListener<ServerBuilder<?>> {

  private final ServerPki pki;
  private final SecurityEvents securityEvents;
  /**
   * Refused handshakes are reported from Netty's event loop, which must not wait on the
   * database: they are recorded on this thread instead, and a flood beyond its queue is
   * dropped (the log line of each recorded one says what happened).
   */
  private final ThreadPoolExecutor recorder = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
      new ArrayBlockingQueue<>(1_000), runnable -> {
        Thread thread = new Thread(runnable, "refused-handshake-recorder");
        thread.setDaemon(true);
        return thread;
      }, new ThreadPoolExecutor.DiscardPolicy());

  MutualTlsServerConfigurer(ServerPki pki, SecurityEvents securityEvents) {
    this.pki = pki;
    this.securityEvents = securityEvents;
  }

  @PreDestroy
  void close() {
    recorder.shutdown();
  }

  private void refused(RecordingTrustManager.RefusedClient client) {
    recorder.execute(() -> securityEvents.record("REFUSED_HANDSHAKE", client.identity(), null,
        "TLS handshake refused for client certificate " + client.subject()
            + (client.serialHex() == null ? "" : " (serial " + client.serialHex() + ")") + ": " + client.reason(),
        client.peer()));
  }

  @Override
  public ServerBuilder<?> onCreated(BeanCreatedEvent<ServerBuilder<?>> event) {
    ServerBuilder<?> builder = event.getBean();
    if (!(builder instanceof NettyServerBuilder netty)) {
      throw new IllegalStateException("the gRPC server builder is " + builder.getClass().getName()
          + ", not Netty's: refusing to start without mutual TLS");
    }
    try {
      netty.sslContext(TlsContexts.server(pki.serverChain(), pki.serverKey(), pki.trustedCas(),
          ClientAuth.OPTIONAL, this::refused));
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the server TLS context", e);
    }
    // Hosts ping every 10 s to notice dead peers; allow it, and ping them back likewise.
    netty.permitKeepAliveTime(5, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .keepAliveTime(10, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .maxInboundMessageSize(4 * 1024 * 1024)
        .maxInboundMetadataSize(16 * 1024);
    return netty;
  }
}
