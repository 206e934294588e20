package io.infraveil.controlplane.deploy;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.DeploymentOnHost;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.RolloutProgress;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.VersionStatus;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Map;

/** The operator's view of deployments: stored intent joined with what agents report. */
@Singleton
public final class DeploymentViews {

  private final Deployments deployments;
  private final DesiredStates desiredStates;
  private final PayloadStore payloads;
  private final ReportIngest ingest;
  private final RolloutHook rollouts;

  public DeploymentViews(Deployments deployments, DesiredStates desiredStates, PayloadStore payloads,
      ReportIngest ingest, RolloutHook rollouts) {
    this.rollouts = rollouts;
    this.deployments = deployments;
    this.desiredStates = desiredStates;
    this.payloads = payloads;
    this.ingest = ingest;
  }

  public List<Deployment> all() {
    Map<String, List<String>> placements = desiredStates.placements();
    return deployments.list().stream()
        .map(record -> view(record, placements.getOrDefault(record.name(), List.of())))
        .toList();
  }

  public Deployment one(String name) {
    DeploymentRecord record = deployments.require(name);
    return view(record, desiredStates.placements().getOrDefault(name, List.of()));
  }

  /**
   * What one call stored: {@code record} as that call wrote it, not the row as it is now (another
   * control plane may have changed it since, and the caller must learn its own sequence).
   */
  public Deployment stored(DeploymentRecord record) {
    return view(record, desiredStates.placement(record));
  }

  public Deployment view(DeploymentRecord record, List<String> placed) {
    Deployment.Builder out = Deployment.newBuilder()
        .setName(record.name())
        .setPayload(ref(record.payloadSha256(), record.sequence()))
        .setGeneration(record.generation())
        .addAllHosts(record.hosts())
        .putAllLabels(record.labels())
        .addAllPlacedHosts(placed)
        .setPaused(record.paused())
        .setUpdatedAt(ProtoTime.timestamp(record.updatedAt()))
        .addAllSignatures(DesiredStates.Signatures.decode(record.signatures()))
        .setInstances(record.maxInstances())
        .addAllPlacementWarnings(PlacementReview.warnings(record.name(), record.maxInstances(), placed));
    rollouts.summary(record.name(), record.paused()).ifPresent(rollout -> out.setRollout(rollout)
        .setStrategy(rollout.getStrategy()));
    if (record.previousSha256() != null) {
      out.setPreviousPayload(ref(record.previousSha256(),
          record.previousSequence() == null ? 0 : record.previousSequence()));
    }
    int updated = 0;
    int healthy = 0;
    int failed = 0;
    for (String host : placed) {
      var report = ingest.agent(host, record.name());
      if (report.isEmpty()) {
        continue;
      }
      var heartbeat = report.get().heartbeat();
      out.addOnHosts(DeploymentOnHost.newBuilder()
          .setHostName(host)
          .setPayload(heartbeat.getPayload())
          .setVersionStatus(heartbeat.getVersionStatus())
          .addAllServices(heartbeat.getServicesList())
          .setLastHeartbeatAt(ProtoTime.timestamp(report.get().receivedAt()))
          .setPressure(heartbeat.getPressure())
          .setContainment(heartbeat.getContainment()));
      boolean current = heartbeat.getPayload().getSha256().equals(record.payloadSha256());
      if (current) {
        updated++;
        boolean allHealthy = heartbeat.getServicesCount() > 0 && heartbeat.getServicesList().stream()
            .allMatch(s -> s.getState() == ServiceState.SERVICE_STATE_RUNNING
                && s.getHealth() != HealthStatus.HEALTH_STATUS_UNHEALTHY);
        if (allHealthy) {
          healthy++;
        }
      }
      boolean anyFailed = heartbeat.getServicesList().stream()
          .anyMatch(s -> s.getState() == ServiceState.SERVICE_STATE_FAILED);
      // Running another version as known good after the current one was pushed = rolled back.
      boolean rolledBack = !current && heartbeat.getGeneration() == record.generation()
          && heartbeat.getVersionStatus() == VersionStatus.VERSION_STATUS_KNOWN_GOOD
          && report.get().receivedAt().isAfter(record.updatedAt());
      if (anyFailed || rolledBack) {
        failed++;
      }
    }
    out.setProgress(RolloutProgress.newBuilder()
        .setHostsTotal(placed.size())
        .setHostsUpdated(updated)
        .setHostsHealthy(healthy)
        .setHostsFailed(failed));
    return out.build();
  }

  private PayloadRef ref(String sha256, long sequence) {
    PayloadRef.Builder ref = PayloadRef.newBuilder().setSha256(sha256).setSequence(sequence);
    payloads.find(sha256).ifPresent(p -> ref.setSize(p.plaintextSize()).setVersion(p.versionLabel()));
    return ref.build();
  }
}
