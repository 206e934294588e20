package io.infraveil.cli.ctl;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.infraveil.cli.StartupTrace;
import io.infraveil.certs.TlsContexts;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.proto.v1.DashboardSignInServiceGrpc;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.RolloutServiceGrpc;
import io.infraveil.proto.v1.SecretAdminServiceGrpc;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One mTLS channel to the control plane's operator service (any of its replicas), closed after
 * one command.
 */
final class Connection implements AutoCloseable {

  /** Deadline of unary calls. */
  static final long UNARY_DEADLINE_SECONDS = 30;
  /** Deadline of a payload upload. */
  static final long UPLOAD_DEADLINE_SECONDS = 600;
  /** Largest message ctl accepts (a status view of many hosts). */
  private static final int MAX_INBOUND_BYTES = 64 << 20;
  /** No pings while idle: a ctl command is short, its follow streams carry their own traffic. */
  private static final ControlPlaneChannels.Settings SETTINGS = new ControlPlaneChannels.Settings(
      Duration.ofSeconds(30), Duration.ofSeconds(10), false, MAX_INBOUND_BYTES);

  private final ManagedChannel channel;
  private final EventLoopGroup eventLoop;

  private Connection(ManagedChannel channel, EventLoopGroup eventLoop) {
    this.channel = channel;
    this.eventLoop = eventLoop;
  }

  /**
   * A channel to the first of the context's endpoints that answers, in the order listed: a
   * replica that is down or refuses connections is skipped (each checked against its own name).
   */
  static Connection open(CtlContext context) throws IOException {
    SslContext tls = TlsContexts.client(context.ca(), context.cert(), context.key());
    StartupTrace.mark("tls");
    // One I/O thread of its own (NIO: no native transport to load for one connection), shut
    // down in close() so the JVM finds no thread inside epoll_wait when it exits.
    EventLoopGroup eventLoop = new MultiThreadIoEventLoopGroup(1,
        new DefaultThreadFactory("ctl-io", true), NioIoHandler.newFactory());
    ManagedChannel channel;
    try {
      channel = ControlPlaneChannels.build(context.endpoints(), tls, SETTINGS, eventLoop,
          NioSocketChannel.class);
    } catch (RuntimeException e) {
      eventLoop.shutdownGracefully(0, 5, TimeUnit.SECONDS);
      throw e;
    }
    StartupTrace.mark("channel");
    if (StartupTrace.on()) {
      awaitConnected(channel);
    }
    return new Connection(channel, eventLoop);
  }

  /**
   * With the startup trace on: connects before the first call (TCP, TLS handshake, HTTP/2
   * settings) so the trace shows the handshake apart from the call. A channel that does not get
   * ready is left to the call, which reports why.
   */
  private static void awaitConnected(ManagedChannel channel) {
    java.util.concurrent.CountDownLatch settled = new java.util.concurrent.CountDownLatch(1);
    watch(channel, channel.getState(true), settled);
    try {
      settled.await(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    StartupTrace.mark("connected");
  }

  private static void watch(ManagedChannel channel, ConnectivityState seen,
      java.util.concurrent.CountDownLatch settled) {
    if (seen == ConnectivityState.READY || seen == ConnectivityState.TRANSIENT_FAILURE
        || seen == ConnectivityState.SHUTDOWN) {
      settled.countDown();
      return;
    }
    channel.notifyWhenStateChanged(seen, () -> watch(channel, channel.getState(false), settled));
  }

  /** For unary calls: fails with DEADLINE_EXCEEDED after {@link #UNARY_DEADLINE_SECONDS}. */
  OperatorServiceGrpc.OperatorServiceBlockingStub unary() {
    return OperatorServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** Secrets administration, with the unary deadline. */
  SecretAdminServiceGrpc.SecretAdminServiceBlockingStub secrets() {
    return SecretAdminServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** Dashboard sign-in links and sessions, with the unary deadline. */
  DashboardSignInServiceGrpc.DashboardSignInServiceBlockingStub dashboard() {
    return DashboardSignInServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** Rollouts (promote, the latest rollout, history), with the unary deadline. */
  RolloutServiceGrpc.RolloutServiceBlockingStub rollouts() {
    return RolloutServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** For server streams that may stay open (follow, watch): no deadline. */
  OperatorServiceGrpc.OperatorServiceBlockingStub streaming() {
    return OperatorServiceGrpc.newBlockingStub(channel);
  }

  OperatorServiceGrpc.OperatorServiceStub async() {
    return OperatorServiceGrpc.newStub(channel);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    eventLoop.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }
}
