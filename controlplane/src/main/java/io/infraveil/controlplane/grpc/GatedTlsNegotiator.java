package io.infraveil.controlplane.grpc;

import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AsciiString;

/**
 * gRPC's server TLS negotiation, each connection's turn given by a {@link HandshakeLimiter}
 * (see {@link HandshakeGate}). Everything else, TLS included, is gRPC's own.
 */
final class GatedTlsNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {

  private final InternalProtocolNegotiator.ProtocolNegotiator tls;
  private final HandshakeLimiter limiter;

  GatedTlsNegotiator(SslContext context, HandshakeLimiter limiter) {
    this.tls = InternalProtocolNegotiators.serverTls(context);
    this.limiter = limiter;
  }

  @Override
  public AsciiString scheme() {
    return tls.scheme();
  }

  @Override
  public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
    return new HandshakeGate(limiter, tls.newHandler(grpcHandler));
  }

  @Override
  public void close() {
    tls.close();
  }
}
