package io.infraveil.controlplane.secrets;

import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.auth.Caller;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.ops.WatchHub;
import io.infraveil.controlplane.store.SecretStore.SecretRecord;
import io.infraveil.proto.v1.DeleteSecretRequest;
import io.infraveil.proto.v1.DeleteSecretResponse;
import io.infraveil.proto.v1.ListSecretsRequest;
import io.infraveil.proto.v1.ListSecretsResponse;
import io.infraveil.proto.v1.SecretAdminServiceGrpc;
import io.infraveil.proto.v1.SecretInfo;
import io.infraveil.proto.v1.SetSecretRequest;
import io.infraveil.proto.v1.SetSecretResponse;
import jakarta.inject.Singleton;
import java.time.Clock;

/**
 * Operators set, list and delete secrets (the interceptor admits only operators here). Every
 * change is announced on Watch by name, version and operator, never by value.
 */
@Singleton
final class SecretAdminEndpoint extends SecretAdminServiceGrpc.SecretAdminServiceImplBase {

  private final Secrets secrets;
  private final WatchHub watchHub;
  private final Clock clock;

  SecretAdminEndpoint(Secrets secrets, WatchHub watchHub, Clock clock) {
    this.secrets = secrets;
    this.watchHub = watchHub;
    this.clock = clock;
  }

  @Override
  public void setSecret(SetSecretRequest request, StreamObserver<SetSecretResponse> responses) {
    byte[] value = request.getValue().toByteArray();
    Secrets.SetResult result;
    try {
      result = secrets.set(request.getDeployment(), request.getName(), value, Caller.operatorUri());
    } finally {
      java.util.Arrays.fill(value, (byte) 0);
    }
    announce(request.getDeployment(), "secret " + request.getName() + " of deployment "
        + request.getDeployment() + " set to version " + result.secret().version() + " by "
        + Caller.operatorUri() + (result.restarted() ? "; the deployment restarts to pick it up" : ""));
    responses.onNext(SetSecretResponse.newBuilder()
        .setSecret(info(result.secret()))
        .setRestarted(result.restarted())
        .build());
    responses.onCompleted();
  }

  @Override
  public void listSecrets(ListSecretsRequest request,
      StreamObserver<ListSecretsResponse> responses) {
    ListSecretsResponse.Builder out = ListSecretsResponse.newBuilder();
    secrets.list(request.getDeployment()).forEach(record -> out.addSecrets(info(record)));
    responses.onNext(out.build());
    responses.onCompleted();
  }

  @Override
  public void deleteSecret(DeleteSecretRequest request,
      StreamObserver<DeleteSecretResponse> responses) {
    boolean deleted = secrets.delete(request.getDeployment(), request.getName());
    if (deleted) {
      announce(request.getDeployment(), "secret " + request.getName() + " of deployment "
          + request.getDeployment() + " deleted by " + Caller.operatorUri());
    }
    responses.onNext(DeleteSecretResponse.newBuilder().setDeleted(deleted).build());
    responses.onCompleted();
  }

  private void announce(String deployment, String text) {
    watchHub.announceChange(clock.instant(), deployment, text);
  }

  private static SecretInfo info(SecretRecord record) {
    return SecretInfo.newBuilder()
        .setDeployment(record.deployment())
        .setName(record.name())
        .setVersion(record.version())
        .setSetAt(ProtoTime.timestamp(record.setAt()))
        .setSetBy(record.setBy())
        .build();
  }

}
