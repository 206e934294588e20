package io.infraveil.controlplane.grpc;

import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Metadata;
import io.grpc.util.TransmitStatusRuntimeExceptionInterceptor;
import io.micronaut.core.order.Ordered;
import jakarta.inject.Singleton;

/**
 * Services refuse by throwing {@code Status...asRuntimeException()}; this sends that status
 * (code and description) to the client instead of a bare UNKNOWN.
 */
@Singleton
final class StatusTransmission implements ServerInterceptor, Ordered {

  private final ServerInterceptor delegate = TransmitStatusRuntimeExceptionInterceptor.instance();

  @Override
  public int getOrder() {
    return HIGHEST_PRECEDENCE + 10; // just inside the authorization interceptor
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
      Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    return delegate.interceptCall(call, headers, next);
  }
}
