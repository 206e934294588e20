package io.infraveil.controlplane.auth;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;

/**
 * A server call that another thread may close (on revocation). Outbound operations are
 * serialized on the call, and anything the service sends after a forced close is dropped.
 */
final class GuardedServerCall<ReqT, RespT>
    extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {

  private final java.util.function.Consumer<Status> onClose;
  private boolean closed;

  GuardedServerCall(ServerCall<ReqT, RespT> delegate, java.util.function.Consumer<Status> onClose) {
    super(delegate);
    this.onClose = onClose;
  }

  @Override
  public synchronized void sendHeaders(Metadata headers) {
    if (!closed) {
      super.sendHeaders(headers);
    }
  }

  @Override
  public synchronized void sendMessage(RespT message) {
    if (!closed) {
      super.sendMessage(message);
    }
  }

  @Override
  public synchronized void close(Status status, Metadata trailers) {
    if (!closed) {
      closed = true;
      onClose.accept(status); // recorded before the client can see the outcome
      super.close(status, trailers);
    }
  }

  /**
   * Closes the call unless it already ended; true if this closed it. A forced close is the
   * control plane's own act (a revocation, a replacing enrollment), recorded once by whoever
   * forced it with the count of streams closed, so it is not a refusal of this call's own.
   */
  synchronized boolean closeIfOpen(Status status) {
    if (closed) {
      return false;
    }
    closed = true;
    super.close(status, new Metadata());
    return true;
  }
}
