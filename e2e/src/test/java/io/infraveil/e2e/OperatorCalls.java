package io.infraveil.e2e;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.infraveil.certs.TlsContexts;
import io.infraveil.proto.v1.DeleteDeploymentRequest;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.RestartDeploymentRequest;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Operator RPCs that ctl has no command for, made with the cluster's operator certificate. */
final class OperatorCalls {

  private OperatorCalls() {}

  static void deleteDeployment(Cluster cluster, String name) throws Exception {
    call(cluster, stub -> stub.deleteDeployment(
        DeleteDeploymentRequest.newBuilder().setName(name).build()));
  }

  static void restartDeployment(Cluster cluster, String name) throws Exception {
    call(cluster, stub -> stub.restartDeployment(
        RestartDeploymentRequest.newBuilder().setName(name).build()));
  }

  private static void call(Cluster cluster,
      Consumer<OperatorServiceGrpc.OperatorServiceBlockingStub> rpc) throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", cluster.grpcPort())
        .sslContext(TlsContexts.client(cluster.caFile(), cluster.pki().certFile("e2e"),
            cluster.pki().keyFile("e2e")))
        .build();
    try {
      rpc.accept(OperatorServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS));
    } finally {
      channel.shutdownNow();
    }
  }
}
