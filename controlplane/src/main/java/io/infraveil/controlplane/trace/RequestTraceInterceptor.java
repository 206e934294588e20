package io.infraveil.controlplane.trace;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.infraveil.certs.Identity;
import io.infraveil.controlplane.auth.Caller;
import io.micronaut.core.order.Ordered;
import jakarta.inject.Singleton;
import java.net.SocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * Records every admitted gRPC call (identity, method, status, latency) under a trace id: the
 * caller's {@code x-infraveil-trace-id} when it sent a usable one, else a new one. The id goes
 * back in the response headers (or trailers, when the call fails before any header) and is in
 * the Context for services that log. Runs just inside the authorization interceptor, so the
 * caller's identity is known; refused calls are security events instead.
 */
@Singleton
public final class RequestTraceInterceptor implements ServerInterceptor, Ordered {

  public static final Metadata.Key<String> TRACE_ID_HEADER =
      Metadata.Key.of("x-infraveil-trace-id", Metadata.ASCII_STRING_MARSHALLER);
  public static final Context.Key<String> TRACE_ID = Context.key("infraveil-trace-id");

  private static final Pattern USABLE = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final RequestTraces traces;
  private final Clock clock;
  private final SecureRandom random;

  public RequestTraceInterceptor(RequestTraces traces, Clock clock, SecureRandom random) {
    this.traces = traces;
    this.clock = clock;
    this.random = random;
  }

  @Override
  public int getOrder() {
    // Lowest value is outermost: after authorization (HIGHEST_PRECEDENCE), before status
    // transmission (HIGHEST_PRECEDENCE + 10), so statuses thrown by services are seen as sent.
    return HIGHEST_PRECEDENCE + 5;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
      Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String traceId = Optional.ofNullable(headers.get(TRACE_ID_HEADER))
        .filter(id -> USABLE.matcher(id).matches())
        .orElseGet(this::newTraceId);
    Instant started = clock.instant();
    Optional<Identity> identity = Caller.identity();
    String method = call.getMethodDescriptor().getFullMethodName();
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    AtomicBoolean recorded = new AtomicBoolean();
    java.util.function.Consumer<Status> finish = status -> {
      if (recorded.compareAndSet(false, true)) {
        Instant now = clock.instant();
        traces.record(new RequestTraces.Trace(now, traceId, identity.map(Identity::uri).orElse(""),
            identity.filter(Identity::isHost).map(Identity::name).orElse(""), method,
            status.getCode().name(), Duration.between(started, now),
            remote == null ? "" : remote.toString()));
      }
    };
    ServerCall<ReqT, RespT> traced = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      private boolean headersSent;

      @Override
      public void sendHeaders(Metadata responseHeaders) {
        responseHeaders.put(TRACE_ID_HEADER, traceId);
        headersSent = true;
        super.sendHeaders(responseHeaders);
      }

      @Override
      public void close(Status status, Metadata trailers) {
        if (!headersSent) {
          trailers.put(TRACE_ID_HEADER, traceId);
        }
        finish.accept(status);
        super.close(status, trailers);
      }
    };
    Context context = Context.current().withValue(TRACE_ID, traceId);
    ServerCall.Listener<ReqT> listener = Contexts.interceptCall(context, traced, headers, next);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onCancel() {
        finish.accept(Status.CANCELLED);
        super.onCancel();
      }
    };
  }

  private String newTraceId() {
    byte[] bytes = new byte[8];
    random.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
