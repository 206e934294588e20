package io.infraveil.controlplane.rollout;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.auth.Caller;
import io.infraveil.controlplane.ops.WatchHub;
import io.infraveil.proto.v1.GetRolloutRequest;
import io.infraveil.proto.v1.GetRolloutResponse;
import io.infraveil.proto.v1.ListRolloutsRequest;
import io.infraveil.proto.v1.ListRolloutsResponse;
import io.infraveil.proto.v1.PromoteRolloutRequest;
import io.infraveil.proto.v1.PromoteRolloutResponse;
import io.infraveil.proto.v1.RolloutServiceGrpc;
import jakarta.inject.Singleton;
import java.time.Clock;

/** gRPC edge of rollouts: promote, the latest rollout, the history. Operators only. */
@Singleton
final class RolloutEndpoint extends RolloutServiceGrpc.RolloutServiceImplBase {

  private final RolloutEngine engine;
  private final WatchHub watch;
  private final Clock clock;

  RolloutEndpoint(RolloutEngine engine, WatchHub watch, Clock clock) {
    this.engine = engine;
    this.watch = watch;
    this.clock = clock;
  }

  @Override
  public void promoteRollout(PromoteRolloutRequest request, StreamObserver<PromoteRolloutResponse> responses) {
    engine.promote(request.getDeployment());
    watch.announceChange(clock.instant(), request.getDeployment(), "rollout of " + request.getDeployment()
        + " promoted by " + Caller.operatorUri());
    responses.onNext(PromoteRolloutResponse.newBuilder().setRollout(require(request.getDeployment())).build());
    responses.onCompleted();
  }

  @Override
  public void getRollout(GetRolloutRequest request, StreamObserver<GetRolloutResponse> responses) {
    responses.onNext(GetRolloutResponse.newBuilder().setRollout(require(request.getDeployment())).build());
    responses.onCompleted();
  }

  @Override
  public void listRollouts(ListRolloutsRequest request, StreamObserver<ListRolloutsResponse> responses) {
    int limit = request.getLimit() <= 0 ? 50 : Math.min(request.getLimit(), 1000);
    responses.onNext(ListRolloutsResponse.newBuilder()
        .addAllRollouts(engine.historyView(request.getDeployment(), limit)).build());
    responses.onCompleted();
  }

  private io.infraveil.proto.v1.Rollout require(String deployment) {
    return engine.view(deployment).orElseThrow(() -> Status.NOT_FOUND.withDescription("deployment "
        + deployment + " has no rollout: it does not exist or was deployed before rollouts were recorded; "
        + "`infraveil ctl status` lists deployments").asRuntimeException());
  }
}
