package io.infraveil.agent;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Runs tasks one at a time, in order, on a shared executor. Each service has one lane, so its
 * state is only ever touched by one task at a time, without locks.
 */
final class Lane implements Executor {

  private static final System.Logger LOG = System.getLogger(Lane.class.getName());

  private final Executor delegate;
  private final String name;
  private final Object lock = new Object();
  /** Guarded by {@code lock}. */
  private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
  /** Guarded by {@code lock}. */
  private boolean draining;

  Lane(Executor delegate, String name) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.name = Objects.requireNonNull(name, "name");
  }

  @Override
  public void execute(Runnable task) {
    synchronized (lock) {
      queue.addLast(Objects.requireNonNull(task, "task"));
      if (draining) {
        return;
      }
      draining = true;
    }
    try {
      delegate.execute(this::drain);
    } catch (RuntimeException rejected) {
      synchronized (lock) {
        draining = false;
        queue.clear();
      }
    }
  }

  /**
   * Runs {@code task} on the calling thread when the lane is idle (and keeps draining what is
   * queued meanwhile), else queues it: a thread woken by a process exit handles it without a
   * hop to the pool. Dropped, like {@link #execute} after shutdown, once the pool is shut down.
   */
  void executeHere(Runnable task) {
    if (delegate instanceof java.util.concurrent.ExecutorService pool && pool.isShutdown()) {
      return;
    }
    synchronized (lock) {
      queue.addLast(Objects.requireNonNull(task, "task"));
      if (draining) {
        return;
      }
      draining = true;
    }
    drain();
  }

  private void drain() {
    while (true) {
      Runnable task;
      synchronized (lock) {
        task = queue.pollFirst();
        if (task == null) {
          draining = false;
          return;
        }
      }
      try {
        task.run();
      } catch (Throwable t) {
        LOG.log(System.Logger.Level.ERROR, "task on lane " + name + " failed", t);
      }
    }
  }
}
