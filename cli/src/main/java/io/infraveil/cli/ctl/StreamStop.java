package io.infraveil.cli.ctl;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Ends a server stream that stays open ({@code ctl watch}, {@code ctl logs --follow}) cleanly:
 * on Ctrl-C the JVM's shutdown cancels the call, so the control plane sees a cancellation
 * rather than a reset connection, and waits briefly for the command to flush what it printed;
 * an interrupt of the reading thread (how tests stop a command) does the same. Either way the
 * command ends with exit code 0.
 */
final class StreamStop implements AutoCloseable {

  /** How long Ctrl-C waits for the command to finish printing. */
  private static final long FINISH_WAIT_MILLIS = 2_000;

  private final Context.CancellableContext context = Context.current().withCancellation();
  private final CountDownLatch finished = new CountDownLatch(1);
  private final Thread hook = new Thread(this::stopFromShutdown, "ctl-stop");
  private volatile boolean stopped;

  StreamStop() {
    try {
      Runtime.getRuntime().addShutdownHook(hook);
    } catch (IllegalStateException alreadyShuttingDown) {
      stopped = true;
      context.cancel(null);
    }
  }

  /** Starts the call inside this stop's context, so that stopping cancels it. */
  <T> T start(Supplier<T> call) {
    Context previous = context.attach();
    try {
      return call.get();
    } finally {
      context.detach(previous);
    }
  }

  /** True when {@code e} is the cancellation this stop (or an interrupt) caused. */
  boolean causedBy(StatusRuntimeException e) {
    return e.getStatus().getCode() == Status.Code.CANCELLED
        && (stopped || context.isCancelled() || Thread.currentThread().isInterrupted());
  }

  private void stopFromShutdown() {
    stopped = true;
    context.cancel(null);
    try {
      finished.await(FINISH_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    finished.countDown();
    context.cancel(null);
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or ran: nothing to remove
    }
  }
}
