package io.infraveil.controlplane.grpc;

import io.grpc.ServerBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.infraveil.certs.TlsContexts;
import io.infraveil.controlplane.ServerPki;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.netty.handler.ssl.ClientAuth;
import jakarta.inject.Singleton;
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

  MutualTlsServerConfigurer(ServerPki pki) {
    this.pki = pki;
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
          ClientAuth.OPTIONAL));
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
