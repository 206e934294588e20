package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.ops.EvidenceLog;
import io.infraveil.controlplane.ops.OperationsSettings;
import io.infraveil.controlplane.replica.Leadership;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;

/** Builds the incident engine with every rule, from settings; it opens and resolves only while this replica leads. */
@Factory
final class IncidentsFactory {

  @Singleton
  RolloutStuckRule rolloutStuckRule(OperationsSettings settings) {
    return new RolloutStuckRule(settings.rolloutStuckAfter());
  }

  @Singleton
  RolloutFailedRule rolloutFailedRule() {
    return new RolloutFailedRule();
  }

  @Singleton
  Incidents incidents(OperationsSettings settings, HostLiveness liveness, DesiredStates desiredStates,
      RolloutStuckRule rolloutStuck, RolloutFailedRule rolloutFailed, JdbcIncidentStore store, EvidenceLog evidence, Clock clock,
      SecureRandom random, Leadership leadership,
      @jakarta.inject.Named("operations") java.util.concurrent.ScheduledExecutorService scheduler) {
    BiFunction<String, String, Optional<String>> desiredSha = (host, deployment) ->
        desiredStates.find(host, deployment).map(agent -> agent.getPayload().getSha256());
    List<IncidentRule> rules = List.of(
        new HostOfflineRule(liveness),
        new AgentSuspendedRule(),
        new ServiceFailedRule(),
        new RolledBackRule(desiredSha),
        new PayloadRejectedRule(desiredSha),
        new AuthFailuresRule(settings.authFailureThreshold(), settings.authFailureWindow()),
        rolloutStuck,
        rolloutFailed);
    return new Incidents(rules, store, evidence, clock, random, settings.reportInterval().multipliedBy(3),
        leadership::term, scheduler);
  }
}
