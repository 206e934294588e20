package io.infraveil.controlplane.replica;

import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The scheduler of presence writes and reads: its own thread, so a database that stops
 * answering delays these and nothing else (incident timers, history flushes).
 */
@Factory
final class ReplicationExecutor {

  static final String NAME = "replication";
  /** Pushes of desired states stored here, right after their commit, off the caller's thread. */
  static final String FAN_OUT = "fan-out";

  @Singleton
  @Named(NAME)
  @Bean(preDestroy = "shutdownNow")
  ScheduledExecutorService replicationScheduler() {
    return Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "infraveil-replication");
      thread.setDaemon(true);
      return thread;
    });
  }

  @Singleton
  @Named(FAN_OUT)
  @Bean(preDestroy = "shutdownNow")
  java.util.concurrent.ExecutorService fanOutExecutor() {
    return Executors.newSingleThreadExecutor(runnable -> {
      Thread thread = new Thread(runnable, "infraveil-fan-out");
      thread.setDaemon(true);
      return thread;
    });
  }
}
