package io.infraveil.controlplane.grpc;

import io.grpc.stub.StreamObserver;

/**
 * A response observer that several threads may use: a stream's own handler and pushes from
 * elsewhere (a new desired state, a revocation). gRPC observers are not thread-safe.
 */
public final class SerializedObserver<T> implements StreamObserver<T> {

  private final StreamObserver<T> delegate;
  private boolean done;

  public SerializedObserver(StreamObserver<T> delegate) {
    this.delegate = delegate;
  }

  @Override
  public synchronized void onNext(T value) {
    if (!done) {
      delegate.onNext(value);
    }
  }

  @Override
  public synchronized void onError(Throwable t) {
    if (!done) {
      done = true;
      delegate.onError(t);
    }
  }

  @Override
  public synchronized void onCompleted() {
    if (!done) {
      done = true;
      delegate.onCompleted();
    }
  }

  public synchronized boolean isDone() {
    return done;
  }
}
