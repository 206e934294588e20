package io.infraveil.controlplane.grpc;

import io.grpc.ServerBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import jakarta.inject.Singleton;
import java.util.concurrent.TimeUnit;

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
    netty.sslContext(tls.sslContext());
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
