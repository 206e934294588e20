package io.infraveil.controlplane.dashboard;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.auth.Caller;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.http.OperationsHttpServer;
import io.infraveil.proto.v1.CreateDashboardSignInLinkRequest;
import io.infraveil.proto.v1.CreateDashboardSignInLinkResponse;
import io.infraveil.proto.v1.DashboardSignInServiceGrpc;
import io.infraveil.proto.v1.RevokeDashboardSessionsRequest;
import io.infraveil.proto.v1.RevokeDashboardSessionsResponse;
import jakarta.inject.Singleton;
import java.time.Duration;

/**
 * gRPC edge of dashboard sign-in. Only operators get here (the authorization interceptor
 * admits no one else), so the link is bound to the calling operator's certificate.
 */
@Singleton
final class DashboardSignInEndpoint extends DashboardSignInServiceGrpc.DashboardSignInServiceImplBase {

  private final DashboardSessions sessions;
  private final OperationsHttpServer http;

  DashboardSignInEndpoint(DashboardSessions sessions, OperationsHttpServer http) {
    this.sessions = sessions;
    this.http = http;
  }

  @Override
  public void createDashboardSignInLink(CreateDashboardSignInLinkRequest request,
      StreamObserver<CreateDashboardSignInLinkResponse> responses) {
    String operator = Caller.operatorUri();
    String serial = Caller.certificateSerial().orElseThrow(() -> Status.UNAUTHENTICATED
        .withDescription("a sign-in link is bound to a client certificate; call with one").asRuntimeException());
    DashboardSessions.Link link;
    try {
      link = sessions.createLink(new DashboardSessions.Principal(operator, operator,
          DashboardSessions.CredentialKind.OPERATOR_CERTIFICATE, serial),
          Duration.ofSeconds(request.getSessionTtlSeconds()));
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription("session_ttl_seconds " + request.getSessionTtlSeconds()
          + ": " + e.getMessage()).asRuntimeException();
    }
    String path = DashboardPaths.signInPath(link.code());
    responses.onNext(CreateDashboardSignInLinkResponse.newBuilder()
        .setUrl(http.baseUrl() + path)
        .setPath(path)
        .setExpiresAt(ProtoTime.timestamp(link.expiresAt()))
        .setSessionExpiresAt(ProtoTime.timestamp(link.sessionExpiresAt()))
        .build());
    responses.onCompleted();
  }

  @Override
  public void revokeDashboardSessions(RevokeDashboardSessionsRequest request,
      StreamObserver<RevokeDashboardSessionsResponse> responses) {
    var revoked = sessions.revokeAll(Caller.operatorUri());
    responses.onNext(RevokeDashboardSessionsResponse.newBuilder()
        .setSessionsRevoked(revoked.sessions())
        .setLinksRevoked(revoked.links())
        .build());
    responses.onCompleted();
  }
}
