package io.infraveil.controlplane.operator;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.Identity;
import io.infraveil.controlplane.auth.Caller;
import io.infraveil.controlplane.auth.SecurityEvents;
import io.infraveil.controlplane.enroll.JoinTokens;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.hosts.HostRevocation;
import io.infraveil.controlplane.hosts.HostViews;
import io.infraveil.proto.v1.CreateJoinTokenRequest;
import io.infraveil.proto.v1.CreateJoinTokenResponse;
import io.infraveil.proto.v1.ListHostsRequest;
import io.infraveil.proto.v1.ListHostsResponse;
import io.infraveil.proto.v1.ListSecurityEventsRequest;
import io.infraveil.proto.v1.ListSecurityEventsResponse;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.RevokeHostRequest;
import io.infraveil.proto.v1.RevokeHostResponse;
import io.infraveil.proto.v1.SecurityEvent;
import jakarta.inject.Singleton;
import java.time.Duration;

/**
 * gRPC edge of the operator's commands. Only operators get here (the authorization
 * interceptor admits no one else); each RPC hands off to a plain class.
 */
@Singleton
final class OperatorEndpoint extends OperatorServiceGrpc.OperatorServiceImplBase {

  private final JoinTokens joinTokens;
  private final HostRevocation revocation;
  private final HostViews hostViews;
  private final SecurityEvents securityEvents;

  OperatorEndpoint(JoinTokens joinTokens, HostRevocation revocation, HostViews hostViews,
      SecurityEvents securityEvents) {
    this.joinTokens = joinTokens;
    this.revocation = revocation;
    this.hostViews = hostViews;
    this.securityEvents = securityEvents;
  }

  @Override
  public void listHosts(ListHostsRequest request, StreamObserver<ListHostsResponse> responses) {
    responses.onNext(ListHostsResponse.newBuilder().addAllHosts(hostViews.all()).build());
    responses.onCompleted();
  }

  @Override
  public void createJoinToken(CreateJoinTokenRequest request,
      StreamObserver<CreateJoinTokenResponse> responses) {
    if (!Identity.isValidName(request.getHostName())) {
      throw Status.INVALID_ARGUMENT.withDescription("host_name \"" + request.getHostName()
          + "\" is invalid: use lower-case letters, digits, dots and dashes").asRuntimeException();
    }
    if (request.getTtlSeconds() < 0) {
      throw Status.INVALID_ARGUMENT.withDescription("ttl_seconds must not be negative, got "
          + request.getTtlSeconds()).asRuntimeException();
    }
    var created = joinTokens.create(request.getHostName(), Duration.ofSeconds(request.getTtlSeconds()),
        request.getLabelsMap(), operatorUri());
    responses.onNext(CreateJoinTokenResponse.newBuilder()
        .setJoinToken(created.token())
        .setExpiresAt(ProtoTime.timestamp(created.expiresAt()))
        .build());
    responses.onCompleted();
  }

  @Override
  public void revokeHost(RevokeHostRequest request, StreamObserver<RevokeHostResponse> responses) {
    var revoked = revocation.revoke(request.getHostName(), request.getReason(), operatorUri());
    responses.onNext(RevokeHostResponse.newBuilder()
        .addAllRevokedSerials(revoked.serials())
        .setClosedStreams(revoked.closedStreams())
        .build());
    responses.onCompleted();
  }

  @Override
  public void listSecurityEvents(ListSecurityEventsRequest request,
      StreamObserver<ListSecurityEventsResponse> responses) {
    int limit = request.getLimit() <= 0 ? 100 : Math.min(request.getLimit(), 1000);
    ListSecurityEventsResponse.Builder out = ListSecurityEventsResponse.newBuilder();
    for (var event : securityEvents.recent(limit)) {
      SecurityEvent.Builder proto = SecurityEvent.newBuilder()
          .setAt(ProtoTime.timestamp(event.at()))
          .setKind(event.kind())
          .setMessage(event.message());
      if (event.identity() != null) {
        proto.setIdentity(event.identity());
      }
      if (event.method() != null) {
        proto.setMethod(event.method());
      }
      if (event.peer() != null) {
        proto.setPeer(event.peer());
      }
      out.addEvents(proto);
    }
    responses.onNext(out.build());
    responses.onCompleted();
  }

  private static String operatorUri() {
    return Caller.identity().map(Identity::uri).orElse("unknown operator");
  }
}
