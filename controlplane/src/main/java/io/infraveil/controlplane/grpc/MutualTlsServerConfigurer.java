package io.infraveil.controlplane.grpc;

import io.grpc.ServerBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.infraveil.certs.TlsProvider;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.netty.channel.epoll.Epoll;
import jakarta.inject.Singleton;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

  private static final Logger LOG = LoggerFactory.getLogger(MutualTlsServerConfigurer.class);

  private final ServerTlsContext tls;

  MutualTlsServerConfigurer(ServerTlsContext tls) {
    this.tls = tls;
  }

  @Override
  public ServerBuilder<?> onCreated(BeanCreatedEvent<ServerBuilder<?>> event) {
    ServerBuilder<?> builder = event.getBean();
    if (!(builder instanceof NettyServerBuilder netty)) {
      throw new IllegalStateException("the gRPC server builder is " + builder.getClass().getName()
          + ", not Netty's: refusing to start without mutual TLS");
    }
    // gRPC's own TLS negotiation, with connections queued for their turn to handshake.
    netty.protocolNegotiator(new GatedTlsNegotiator(tls.sslContext(), tls.handshakeLimiter()));
    // grpc-netty picks the native epoll transport itself where it loads, NIO elsewhere.
    LOG.info("grpc_transport {} transport={} max_concurrent_handshakes={}", TlsProvider.description(),
        Epoll.isAvailable() ? "epoll" : "nio", tls.handshakeLimiter().stats().limit());
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
