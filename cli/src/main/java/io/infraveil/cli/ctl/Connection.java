package io.infraveil.cli.ctl;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.infraveil.certs.TlsContexts;
import io.infraveil.proto.v1.DashboardSignInServiceGrpc;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.RolloutServiceGrpc;
import io.infraveil.proto.v1.SecretAdminServiceGrpc;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** One mTLS channel to the control plane's operator service, closed after one command. */
final class Connection implements AutoCloseable {

  /** Deadline of unary calls. */
  static final long UNARY_DEADLINE_SECONDS = 30;
  /** Deadline of a payload upload. */
  static final long UPLOAD_DEADLINE_SECONDS = 600;
  /** Largest message ctl accepts (a status view of many hosts). */
  private static final int MAX_INBOUND_BYTES = 64 << 20;

  private final ManagedChannel channel;

  private Connection(ManagedChannel channel) {
    this.channel = channel;
  }

  static Connection open(CtlContext context) throws IOException {
    ManagedChannel channel = NettyChannelBuilder.forAddress(context.host(), context.port())
        .sslContext(TlsContexts.client(context.ca(), context.cert(), context.key()))
        .maxInboundMessageSize(MAX_INBOUND_BYTES)
        .build();
    return new Connection(channel);
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
  }
}
