package io.infraveil.controlplane.grpc;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.util.TransmitStatusRuntimeExceptionInterceptor;
import io.infraveil.controlplane.store.StoreException;
import io.micronaut.core.order.Ordered;
import jakarta.inject.Singleton;

/**
 * Services refuse by throwing {@code Status...asRuntimeException()}; this sends that status
 * (code and description) to the client instead of a bare UNKNOWN. A {@link StoreException}
 * becomes the status {@link StoreFailures} gives it on the way.
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
    return delegate.interceptCall(call, headers,
        (inner, innerHeaders) -> new StoreFailureListener<>(next.startCall(inner, innerHeaders)));
  }

  /** Turns a store failure thrown by the service into a status the outer interceptor sends. */
  private static final class StoreFailureListener<ReqT> extends SimpleForwardingServerCallListener<ReqT> {

    StoreFailureListener(ServerCall.Listener<ReqT> delegate) {
      super(delegate);
    }

    @Override
    public void onMessage(ReqT message) {
      try {
        super.onMessage(message);
      } catch (StoreException e) {
        throw StoreFailures.status(e).asRuntimeException();
      }
    }

    @Override
    public void onHalfClose() {
      try {
        super.onHalfClose();
      } catch (StoreException e) {
        throw StoreFailures.status(e).asRuntimeException();
      }
    }

    @Override
    public void onReady() {
      try {
        super.onReady();
      } catch (StoreException e) {
        throw StoreFailures.status(e).asRuntimeException();
      }
    }
  }
}
