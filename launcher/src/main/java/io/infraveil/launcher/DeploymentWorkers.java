package io.infraveil.launcher;

import java.time.Duration;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * One serial worker per deployment for the slow acts (fetch, stop with grace, spawn): at most
 * one task per deployment runs at a time, and tasks of different deployments run in parallel,
 * so a stalled download of one deployment delays nothing else. While a deployment is busy the
 * reconciler leaves it alone; when its task ends, {@code onDone} is told (to reconcile again).
 */
final class DeploymentWorkers {

  private final ExecutorService pool;
  private final Consumer<String> onDone;
  /** Guarded by {@code this}. */
  private final Set<String> busy = new HashSet<>();

  DeploymentWorkers(Consumer<String> onDone) {
    this.onDone = Objects.requireNonNull(onDone, "onDone");
    this.pool = Executors.newCachedThreadPool(r -> {
      Thread thread = new Thread(r, "deployment-worker");
      thread.setDaemon(true);
      return thread;
    });
  }

  synchronized boolean isBusy(String deployment) {
    return busy.contains(deployment);
  }

  /** Runs {@code task} on the deployment's worker; false when one is still running. */
  synchronized boolean submit(String deployment, Runnable task) {
    if (!busy.add(deployment)) {
      return false;
    }
    try {
      pool.execute(() -> run(deployment, task));
      return true;
    } catch (RejectedExecutionException closed) {
      busy.remove(deployment);
      return false;
    }
  }

  /** Waits until no deployment is busy; false when {@code timeout} passed first. */
  synchronized boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!busy.isEmpty()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, left / 1_000_000));
    }
    return true;
  }

  void close() {
    pool.shutdownNow();
  }

  private void run(String deployment, Runnable task) {
    Thread.currentThread().setName("deployment-" + deployment);
    try {
      task.run();
    } finally {
      synchronized (this) {
        busy.remove(deployment);
        notifyAll();
      }
      Thread.currentThread().setName("deployment-worker");
      onDone.accept(deployment);
    }
  }
}
