package io.infraveil.controlplane.secrets;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.auth.Caller;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.enroll.Enrollment;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.FetchSecretsRequest;
import io.infraveil.proto.v1.FetchSecretsResponse;
import io.infraveil.proto.v1.SecretServiceGrpc;
import jakarta.inject.Singleton;

/**
 * Serves a deployment's secrets to the hosts it is placed on, exactly as payload fetch is
 * authorized: the calling host (from its certificate, never from the request) must have the
 * deployment in its desired state. Anyone else gets PERMISSION_DENIED naming who asked for
 * what, which the authorization interceptor records as a security event.
 */
@Singleton
final class SecretEndpoint extends SecretServiceGrpc.SecretServiceImplBase {

  private final DesiredStates desiredStates;
  private final Secrets secrets;
  private final Enrollment enrollment;

  SecretEndpoint(DesiredStates desiredStates, Secrets secrets, Enrollment enrollment) {
    this.desiredStates = desiredStates;
    this.secrets = secrets;
    this.enrollment = enrollment;
  }

  @Override
  public void fetchSecrets(FetchSecretsRequest request,
      StreamObserver<FetchSecretsResponse> responses) {
    String host = Caller.requireHost();
    String deployment = request.getDeployment();
    DesiredAgent agent = desiredStates.find(host, deployment).orElseThrow(() ->
        Status.PERMISSION_DENIED.withDescription("host " + host + " may not fetch the secrets of"
            + " deployment " + deployment + ": the deployment is not placed on " + host)
            .asRuntimeException());
    if (agent.getStop()) {
      throw Status.PERMISSION_DENIED.withDescription("host " + host + " may not fetch the"
          + " secrets of deployment " + deployment + ": the deployment is being stopped on "
          + host).asRuntimeException();
    }
    byte[] hostSecret = enrollment.hostSecret(host);
    HostKeys keys = HostKeys.fromSecret(hostSecret);
    java.util.Arrays.fill(hostSecret, (byte) 0);
    responses.onNext(FetchSecretsResponse.newBuilder()
        .setDeployment(deployment)
        .addAllSecrets(secrets.sealedFor(keys.wrapKey(), deployment))
        .build());
    responses.onCompleted();
  }
}
