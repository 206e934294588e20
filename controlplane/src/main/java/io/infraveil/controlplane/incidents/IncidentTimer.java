package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.deploy.DeploymentViews;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.ops.OperationsSettings;
import io.infraveil.controlplane.replica.Leadership;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.DeploymentOnHost;
import io.micronaut.context.annotation.Context;
import jakarta.inject.Named;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the incident rules on a timer, so that silence counts too (a host that stops
 * reporting), and refreshes the rollout snapshots that ROLLOUT_STUCK reads. On a replica that
 * does not lead, the rules are not evaluated (the leader does that once for all) and the
 * incidents shown are read from the store instead.
 */
@Context
final class IncidentTimer {

  private static final Logger LOG = LoggerFactory.getLogger(IncidentTimer.class);

  private final Incidents incidents;
  private final RolloutStuckRule rolloutStuck;
  private final DeploymentViews deployments;
  private final Leadership leadership;

  IncidentTimer(Incidents incidents, RolloutStuckRule rolloutStuck, DeploymentViews deployments,
      OperationsSettings settings, @Named("operations") ScheduledExecutorService scheduler, Leadership leadership) {
    this.incidents = incidents;
    this.leadership = leadership;
    this.rolloutStuck = rolloutStuck;
    this.deployments = deployments;
    long every = Math.max(10, settings.incidentCheckInterval().toMillis());
    scheduler.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
  }

  void tick() {
    try {
      rolloutStuck.refresh(rollouts(deployments.all()));
      if (!leadership.runIfLeader(Leadership.INCIDENT_RULES, incidents::evaluate)) {
        incidents.followStore();
      }
    } catch (RuntimeException e) {
      LOG.error("incident check failed: {}", e.toString());
    }
  }

  static List<RolloutStuckRule.Rollout> rollouts(List<Deployment> all) {
    return all.stream().map(d -> {
      Map<String, String> running = new HashMap<>();
      for (DeploymentOnHost on : d.getOnHostsList()) {
        running.put(on.getHostName(), on.getPayload().getSha256());
      }
      return new RolloutStuckRule.Rollout(d.getName(), d.getPayload().getSha256(), d.getPayload().getVersion(),
          ProtoTime.instant(d.getUpdatedAt()), d.getPaused(), d.getPlacedHostsList(), running);
    }).toList();
  }
}
