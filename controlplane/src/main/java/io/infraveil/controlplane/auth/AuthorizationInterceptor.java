package io.infraveil.controlplane.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.infraveil.certs.Identity;
import io.infraveil.certs.PeerIdentity;
import io.infraveil.certs.PeerIdentity.VerifiedPeer;
import io.infraveil.controlplane.ServerPki;
import io.micronaut.core.order.Ordered;
import jakarta.inject.Singleton;
import java.net.SocketAddress;
import java.util.Optional;

/**
 * The one place where callers are identified and admitted. It reads the verified client
 * certificate from the TLS session, refuses revoked certificates and callers of the wrong
 * kind, records every refusal as a security event, and puts the identity in the Context.
 */
@Singleton
public final class AuthorizationInterceptor implements ServerInterceptor, Ordered {

  private final ServerPki pki;
  private final OpenStreams openStreams;
  private final SecurityEvents securityEvents;

  public AuthorizationInterceptor(ServerPki pki, OpenStreams openStreams, SecurityEvents securityEvents) {
    this.pki = pki;
    this.openStreams = openStreams;
    this.securityEvents = securityEvents;
  }

  @Override
  public int getOrder() {
    // micronaut-grpc adds interceptors so that the lowest order value is the outermost one:
    // this runs first, and nothing else sees an unidentified call.
    return HIGHEST_PRECEDENCE;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    String peerAddress = peerAddress(call);
    MethodPolicy.Audience audience = MethodPolicy.audienceOf(method);
    Optional<VerifiedPeer> peer = PeerIdentity.fromSession(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));

    if (peer.isEmpty()) {
      if (audience == MethodPolicy.Audience.ANYONE) {
        Context context = Context.current().withValue(Caller.METHOD, method);
        return Contexts.interceptCall(context, call, headers, next);
      }
      return refuse(call, Status.UNAUTHENTICATED, "NO_CLIENT_CERTIFICATE", null, method, peerAddress,
          "an anonymous caller may not call " + method + ": present a client certificate issued by "
              + "this installation's CA");
    }

    Identity identity = peer.get().identity();
    String serial = peer.get().serialHex();
    if (!identity.trustDomain().equals(pki.trustDomain())) {
      return refuse(call, Status.PERMISSION_DENIED, "FOREIGN_TRUST_DOMAIN", identity.uri(), method, peerAddress,
          identity.uri() + " may not call " + method + ": its trust domain is not " + pki.trustDomain());
    }
    if (pki.revocations().isRevoked(serial)) {
      return refuse(call, Status.PERMISSION_DENIED, "REVOKED_CERTIFICATE", identity.uri(), method, peerAddress,
          identity.uri() + " may not call " + method + ": its certificate (serial " + serial
              + ") is revoked; the host must enroll again with a new join token");
    }
    Optional<String> refusal = MethodPolicy.refusal(audience, identity);
    if (refusal.isPresent()) {
      return refuse(call, Status.PERMISSION_DENIED, "PERMISSION_DENIED", identity.uri(), method, peerAddress,
          identity.uri() + " may not call " + method + ": " + refusal.get());
    }

    GuardedServerCall<ReqT, RespT> guarded = new GuardedServerCall<>(call, status -> {
      if (status.getCode() == Status.Code.PERMISSION_DENIED) {
        securityEvents.record("PERMISSION_DENIED", identity.uri(), method, status.getDescription(), peerAddress);
      }
    });
    openStreams.register(serial, guarded);
    Context context = Context.current().withValues(Caller.IDENTITY, identity, Caller.METHOD, method,
        Caller.SERIAL, serial);
    ServerCall.Listener<ReqT> listener = Contexts.interceptCall(context, guarded, headers, next);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onComplete() {
        openStreams.unregister(serial, guarded);
        super.onComplete();
      }

      @Override
      public void onCancel() {
        openStreams.unregister(serial, guarded);
        super.onCancel();
      }
    };
  }

  private <ReqT, RespT> ServerCall.Listener<ReqT> refuse(ServerCall<ReqT, RespT> call, Status status,
      String kind, String identity, String method, String peer, String message) {
    securityEvents.record(kind, identity, method, message, peer);
    call.close(status.withDescription(message), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  private static String peerAddress(ServerCall<?, ?> call) {
    SocketAddress address = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    return address == null ? null : address.toString();
  }
}
