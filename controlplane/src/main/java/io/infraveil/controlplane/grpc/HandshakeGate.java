package io.infraveil.controlplane.grpc;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The first handler of an accepted connection: it reads nothing and holds back gRPC's TLS
 * negotiation until the {@link HandshakeLimiter} gives this connection its turn, then puts
 * the negotiation in its place and steps aside. The TLS handler and its handshake timeout
 * only exist from that turn on, so time spent queued does not count against the handshake;
 * the client's ClientHello waits in the socket meanwhile. The turn ends when the handshake
 * does (either way) or the connection closes.
 */
final class HandshakeGate extends ChannelInboundHandlerAdapter {

  private final HandshakeLimiter limiter;
  private final ChannelHandler negotiation;
  /** Inbound events that arrived while waiting, replayed in order to the negotiation. */
  private final List<Consumer<ChannelHandlerContext>> held = new ArrayList<>();
  private final List<Object> heldMessages = new ArrayList<>();
  private final AtomicBoolean released = new AtomicBoolean();
  private Runnable waiter;

  HandshakeGate(HandshakeLimiter limiter, ChannelHandler negotiation) {
    this.limiter = limiter;
    this.negotiation = negotiation;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    ctx.channel().config().setAutoRead(false);
    // The turn is always taken on the event loop, after this handler is fully in place.
    waiter = () -> ctx.executor().execute(() -> onTurn(ctx));
    limiter.acquire(waiter);
  }

  private void onTurn(ChannelHandlerContext ctx) {
    waiter = null;
    if (ctx.isRemoved() || !ctx.channel().isOpen()) {
      release();
      return;
    }
    ctx.pipeline().addAfter(ctx.name(), null, negotiation);
    for (Consumer<ChannelHandlerContext> event : held) {
      event.accept(ctx);
    }
    held.clear();
    SslHandler tls = ctx.pipeline().get(SslHandler.class);
    if (tls != null) {
      tls.handshakeFuture().addListener(done -> release());
    } else {
      release();
    }
    ctx.channel().closeFuture().addListener(closed -> release());
    ctx.pipeline().remove(this);
    ctx.channel().config().setAutoRead(true);
  }

  private void release() {
    if (released.compareAndSet(false, true)) {
      limiter.release();
    }
  }

  @Override
  public void channelRegistered(ChannelHandlerContext ctx) {
    held.add(ChannelHandlerContext::fireChannelRegistered);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    held.add(ChannelHandlerContext::fireChannelActive);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    held.add(next -> next.fireUserEventTriggered(event));
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object message) {
    // Nothing is read while waiting (auto-read is off); a read already under way is kept.
    heldMessages.add(message);
    held.add(next -> {
      heldMessages.remove(message);
      next.fireChannelRead(message);
    });
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    // Closed while queued: leave the queue; the turn, if it already came, is handed back.
    Runnable queued = waiter;
    if (queued != null && limiter.cancel(queued)) {
      waiter = null;
      released.set(true);
    }
    heldMessages.forEach(ReferenceCountUtil::release);
    heldMessages.clear();
    held.clear();
    ctx.fireChannelInactive();
  }
}
