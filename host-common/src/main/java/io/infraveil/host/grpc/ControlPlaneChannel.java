package io.infraveil.host.grpc;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ConnectivityState;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.infraveil.host.grpc.ControlPlaneChannels.Target;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * A channel to one of several control-plane replicas that knows which one answered last. A call
 * counts as answered by a replica when that replica sends response headers, so a refused TLS
 * handshake or a port that takes no connection never counts. Listeners hear each change once,
 * the first answer included, on the gRPC thread that saw it: they must not block.
 */
public final class ControlPlaneChannel extends ManagedChannel {

  /** Told when the replica answering changes. */
  @FunctionalInterface
  public interface SwitchListener {
    /**
     * @param now the endpoint that answered
     * @param was the one that answered before, empty for the first answer
     */
    void switched(Target now, Optional<Target> was);
  }

  private final ControlPlaneEndpoints endpoints;
  private final ManagedChannel delegate;
  private final AtomicReference<Target> answering = new AtomicReference<>();
  private final List<SwitchListener> listeners = new CopyOnWriteArrayList<>();

  /** {@code delegate} carries the {@link Tracker} that reports to this instance. */
  private ControlPlaneChannel(ControlPlaneEndpoints endpoints, ManagedChannel delegate) {
    this.endpoints = Objects.requireNonNull(endpoints, "endpoints");
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /** Builds the pair: the interceptor must exist before the channel it watches. */
  static ControlPlaneChannel create(ControlPlaneEndpoints endpoints, EndpointBook book,
      Function<ClientInterceptor, ManagedChannel> build) {
    AtomicReference<ControlPlaneChannel> self = new AtomicReference<>();
    ManagedChannel channel = build.apply(new Tracker(book, self));
    ControlPlaneChannel created = new ControlPlaneChannel(endpoints, channel);
    self.set(created);
    return created;
  }

  /** The endpoints in the order this channel tries them. */
  public ControlPlaneEndpoints endpoints() {
    return endpoints;
  }

  /** The replica that answered the latest call, empty until one did. */
  public Optional<Target> answering() {
    return Optional.ofNullable(answering.get());
  }

  public void addSwitchListener(SwitchListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  private void answeredBy(Target endpoint) {
    Target before = answering.getAndSet(endpoint);
    if (!endpoint.equals(before)) {
      for (SwitchListener listener : listeners) {
        listener.switched(endpoint, Optional.ofNullable(before));
      }
    }
  }

  /** Notes the remote address of every call that gets response headers. */
  private record Tracker(EndpointBook book, AtomicReference<ControlPlaneChannel> channel)
      implements ClientInterceptor {
    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method,
        CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> responseListener, Metadata headers) {
          ClientCall<Q, R> call = this;
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
              responseListener) {
            @Override
            public void onHeaders(Metadata responseHeaders) {
              Target endpoint = book.endpointOf(
                  call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
              ControlPlaneChannel owner = channel.get();
              if (endpoint != null && owner != null) {
                owner.answeredBy(endpoint);
              }
              super.onHeaders(responseHeaders);
            }
          }, headers);
        }
      };
    }
  }

  // ManagedChannel, delegated.

  @Override
  public ManagedChannel shutdown() {
    delegate.shutdown();
    return this;
  }

  @Override
  public boolean isShutdown() {
    return delegate.isShutdown();
  }

  @Override
  public boolean isTerminated() {
    return delegate.isTerminated();
  }

  @Override
  public ManagedChannel shutdownNow() {
    delegate.shutdownNow();
    return this;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return delegate.awaitTermination(timeout, unit);
  }

  @Override
  public ConnectivityState getState(boolean requestConnection) {
    return delegate.getState(requestConnection);
  }

  @Override
  public void notifyWhenStateChanged(ConnectivityState source, Runnable callback) {
    delegate.notifyWhenStateChanged(source, callback);
  }

  @Override
  public void resetConnectBackoff() {
    delegate.resetConnectBackoff();
  }

  @Override
  public void enterIdle() {
    delegate.enterIdle();
  }

  @Override
  public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
    return delegate.newCall(method, options);
  }

  @Override
  public String authority() {
    return delegate.authority();
  }

  @Override
  public String toString() {
    return "ControlPlaneChannel{" + endpoints + ", answering " + answering.get() + "}";
  }
}
