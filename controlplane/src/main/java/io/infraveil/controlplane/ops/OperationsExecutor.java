package io.infraveil.controlplane.ops;

import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** The one scheduler of the operations half: history flushes, pruning, incident timers. */
@Factory
final class OperationsExecutor {

  static final String NAME = "operations";

  @Singleton
  @Named(NAME)
  @Bean(preDestroy = "shutdownNow")
  ScheduledExecutorService operationsScheduler() {
    return Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "infraveil-operations");
      thread.setDaemon(true);
      return thread;
    });
  }
}
