package io.infraveil.controlplane;

import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Singleton;
import java.security.SecureRandom;
import java.time.Clock;

/** Time and randomness as beans, so tests can replace them. */
@Factory
final class Clocks {

  @Singleton
  @Requires(missingBeans = Clock.class)
  Clock clock() {
    return Clock.systemUTC();
  }

  @Singleton
  @Requires(missingBeans = SecureRandom.class)
  SecureRandom secureRandom() {
    return new SecureRandom();
  }
}
