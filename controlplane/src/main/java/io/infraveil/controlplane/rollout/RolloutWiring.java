package io.infraveil.controlplane.rollout;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.incidents.Incidents;
import io.infraveil.controlplane.incidents.RolloutFailedRule;
import io.infraveil.controlplane.ops.WatchHub;
import io.infraveil.controlplane.replica.Leadership;
import io.infraveil.controlplane.replica.Replicas;
import io.infraveil.proto.v1.EvidenceSource;
import io.infraveil.proto.v1.WatchResponse;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Named;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the rollout engine on the operations scheduler (every {@code infraveil.rollout-interval},
 * 1 s, and at once after a new version), and passes its steps on: to Watch with structured
 * fields, and to the ROLLOUT_FAILED rule, whose incident opens at once. Rounds run on the
 * leading replica only; with several replicas every replica reads the latest rollouts from the
 * store before its round, since another one may have started or moved them.
 */
@Context
public final class RolloutWiring {

  private static final Logger LOG = LoggerFactory.getLogger(RolloutWiring.class);

  private final RolloutEngine engine;
  private final RolloutFailedRule failedRule;
  private final Leadership leadership;
  private final Replicas replicas;

  public RolloutWiring(RolloutEngine engine, WatchHub watch, RolloutFailedRule failedRule, Incidents incidents,
      RolloutViews views, @Named("operations") ScheduledExecutorService scheduler,
      @Value("${infraveil.rollout-interval:1s}") Duration interval, Leadership leadership, Replicas replicas) {
    this.engine = engine;
    this.failedRule = failedRule;
    this.leadership = leadership;
    this.replicas = replicas;
    deriveFailures();
    engine.addListener(event -> {
      Rollout r = event.rollout();
      watch.publish(WatchResponse.newBuilder()
          .setAt(ProtoTime.timestamp(event.at()))
          .setSource(EvidenceSource.EVIDENCE_SOURCE_PIPELINE)
          .setTopic("rollout")
          .setDeployment(event.deployment())
          .setHostName(event.host())
          .setVersion(event.version())
          .setRolloutBatch(event.batch())
          .setText(event.text())
          .setRollout(views.view(r, false, false))
          .build());
      switch (event.kind()) {
        case FAILED, REVERTED -> {
          if (r.phase() == Phase.FAILED || r.phase() == Phase.REVERTED) {
            failedRule.failed(event.deployment(), r.reason());
            scheduler.execute(incidents::evaluate);
          }
        }
        case BATCH_STARTED -> {
          if (r.batch() <= 1) {
            failedRule.cleared(event.deployment()); // a new rollout began
          }
          scheduler.execute(this::tick);
        }
        case DELETED -> failedRule.cleared(event.deployment());
        default -> { }
      }
    });
    long every = Math.max(10, interval.toMillis());
    scheduler.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
  }

  /** The ROLLOUT_FAILED rule from the latest rollouts: failed or reverted ones hold, the others do not. */
  private void deriveFailures() {
    for (String deployment : engine.deploymentsWithRollouts()) {
      engine.latest(deployment).ifPresent(r -> {
        if (r.phase() == Phase.FAILED || r.phase() == Phase.REVERTED) {
          failedRule.failed(deployment, r.reason());
        } else {
          failedRule.cleared(deployment);
        }
      });
    }
  }

  private void tick() {
    try {
      if (replicas.several()) {
        engine.reload();
        deriveFailures();
      }
      leadership.runIfLeader(Leadership.ROLLOUT_ROUNDS, engine::tick);
    } catch (RuntimeException e) {
      LOG.error("rollout round failed: {}", e.toString());
    }
  }
}
