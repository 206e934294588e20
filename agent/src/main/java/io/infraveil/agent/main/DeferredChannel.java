package io.infraveil.agent.main;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The agent's channel to the control plane, built on a thread of its own when first needed or
 * when asked ({@link #buildNow()}): building the mutual-TLS context and the Netty channel was the
 * longest part of an agent's start, and nothing on the way to running the desired version needs
 * it when the launcher has cached the payload. A call waits for the channel; a channel that could not be built fails
 * each call with {@code UNAVAILABLE} naming why (the agent keeps supervising, as with a control
 * plane out of reach).
 */
final class DeferredChannel extends ManagedChannel {

  private final CompletableFuture<? extends ManagedChannel> built;
  private final AtomicBoolean shutdown = new AtomicBoolean();
  /** Starts the build, once. */
  private final Runnable start;
  private final AtomicBoolean started = new AtomicBoolean();

  private DeferredChannel(CompletableFuture<? extends ManagedChannel> built, Runnable start) {
    this.built = Objects.requireNonNull(built, "built");
    this.start = Objects.requireNonNull(start, "start");
  }

  /**
   * A channel built with {@code build} on a new daemon thread named {@code threadName}, started
   * by {@link #buildNow()} or by the first call that needs the channel.
   */
  static DeferredChannel lazy(Supplier<? extends ManagedChannel> build, String threadName) {
    CompletableFuture<ManagedChannel> built = new CompletableFuture<>();
    return new DeferredChannel(built, () -> startBuilding(build, threadName, built));
  }

  /** As {@link #lazy}, the build started at once. */
  static DeferredChannel building(Supplier<? extends ManagedChannel> build, String threadName) {
    DeferredChannel channel = lazy(build, threadName);
    channel.buildNow();
    return channel;
  }

  /** Starts building the channel unless it is under way. */
  void buildNow() {
    if (started.compareAndSet(false, true)) {
      start.run();
    }
  }

  private static void startBuilding(Supplier<? extends ManagedChannel> build, String threadName,
      CompletableFuture<ManagedChannel> built) {
    Thread thread = new Thread(() -> {
      try {
        built.complete(build.get());
      } catch (RuntimeException | Error e) {
        System.getLogger(DeferredChannel.class.getName()).log(System.Logger.Level.ERROR,
            "cannot build the channel to the control plane (" + e.getMessage() + "): no "
                + "heartbeat, log shipping or fetch until the agent restarts", e);
        built.completeExceptionally(e);
      }
    }, threadName);
    thread.setDaemon(true);
    thread.start();
  }

  /** Over a channel being built elsewhere (tests). */
  static DeferredChannel of(CompletableFuture<? extends ManagedChannel> built) {
    DeferredChannel channel = new DeferredChannel(built, () -> { });
    channel.buildNow(); // under way elsewhere
    return channel;
  }

  /** Completes when the channel is built (exceptionally when it cannot be). */
  java.util.concurrent.CompletionStage<? extends ManagedChannel> built() {
    return built.copy();
  }

  /** The built channel, waiting for it. */
  ManagedChannel channel() {
    buildNow();
    try {
      return built.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw Status.UNAVAILABLE.withDescription("the agent's channel to the control plane could "
          + "not be built: " + cause.getMessage() + "; check the host's identity files and "
          + "restart the agent").withCause(cause).asRuntimeException();
    }
  }

  private ManagedChannel ifBuilt() {
    return built.isDone() && !built.isCompletedExceptionally() ? built.join() : null;
  }

  @Override
  public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
    return channel().newCall(method, options);
  }

  @Override
  public String authority() {
    return channel().authority();
  }

  @Override
  public ManagedChannel shutdown() {
    shutdown.set(true);
    if (!started.get()) {
      built.completeExceptionally(new IllegalStateException("shut down before it was built"));
    }
    built.thenAccept(ManagedChannel::shutdown);
    return this;
  }

  @Override
  public ManagedChannel shutdownNow() {
    shutdown.set(true);
    if (!started.get()) {
      built.completeExceptionally(new IllegalStateException("shut down before it was built"));
    }
    built.thenAccept(ManagedChannel::shutdownNow);
    return this;
  }

  @Override
  public boolean isShutdown() {
    ManagedChannel channel = ifBuilt();
    return shutdown.get() || (channel != null && channel.isShutdown());
  }

  @Override
  public boolean isTerminated() {
    ManagedChannel channel = ifBuilt();
    return channel != null ? channel.isTerminated()
        : shutdown.get() && built.isCompletedExceptionally();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    ManagedChannel channel;
    try {
      channel = built.get(timeout, unit);
    } catch (ExecutionException e) {
      return true; // never built: nothing to terminate
    } catch (TimeoutException e) {
      return false;
    }
    return channel.awaitTermination(Math.max(0, deadline - System.nanoTime()),
        TimeUnit.NANOSECONDS);
  }

  @Override
  public ConnectivityState getState(boolean requestConnection) {
    ManagedChannel channel = ifBuilt();
    return channel != null ? channel.getState(requestConnection) : ConnectivityState.IDLE;
  }

  @Override
  public void notifyWhenStateChanged(ConnectivityState source, Runnable callback) {
    built.whenComplete((channel, failure) -> {
      if (channel != null) {
        channel.notifyWhenStateChanged(source, callback);
      }
    });
  }

  @Override
  public void resetConnectBackoff() {
    ManagedChannel channel = ifBuilt();
    if (channel != null) {
      channel.resetConnectBackoff();
    }
  }

  @Override
  public void enterIdle() {
    ManagedChannel channel = ifBuilt();
    if (channel != null) {
      channel.enterIdle();
    }
  }

  @Override
  public String toString() {
    ManagedChannel channel = ifBuilt();
    return channel != null ? channel.toString() : "channel to the control plane (being built)";
  }
}
