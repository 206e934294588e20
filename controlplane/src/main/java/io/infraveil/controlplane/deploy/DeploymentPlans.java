package io.infraveil.controlplane.deploy;

import io.grpc.Status;
import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.HostStore;
import io.infraveil.controlplane.store.HostStore.HostRecord;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.proto.v1.DesiredAgent;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.PlanChange;
import io.infraveil.proto.v1.PlanDeploymentRequest;
import io.infraveil.proto.v1.PlanDeploymentResponse;
import io.infraveil.proto.v1.PlannedBatch;
import io.infraveil.proto.v1.PlannedHost;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * What a PutDeployment would do, computed from the same stores and the same placement review,
 * without writing anything: no row, no sequence, no desired state, no push. The payload is
 * named by the digest of the archive the client would upload, so nothing is uploaded either.
 */
@Singleton
public final class DeploymentPlans {

  private final DeploymentStore store;
  private final PayloadStore payloads;
  private final HostStore hosts;
  private final DesiredStates desiredStates;

  public DeploymentPlans(DeploymentStore store, PayloadStore payloads, HostStore hosts, DesiredStates desiredStates) {
    this.store = store;
    this.payloads = payloads;
    this.hosts = hosts;
    this.desiredStates = desiredStates;
  }

  public PlanDeploymentResponse plan(PlanDeploymentRequest request) {
    Deployments.checkTargets(request.getName(), request.getHostsList(), request.getLabelsMap());
    String sha256 = request.getPayloadSha256();
    if (!sha256.matches("[0-9a-f]{64}")) {
      throw Status.INVALID_ARGUMENT.withDescription("payload_sha256 \"" + sha256 + "\" is not 64 lower-case hex "
          + "digits: send the SHA-256 of the .tar.gz a deploy would upload").asRuntimeException();
    }
    if (request.getMaxParallel() < 0 || request.getCanary() < 0) {
      throw Status.INVALID_ARGUMENT.withDescription("max_parallel and canary must not be negative, got "
          + request.getMaxParallel() + " and " + request.getCanary()).asRuntimeException();
    }
    var stored = payloads.find(sha256);
    int instances = request.getInstancesByServiceMap().values().stream().mapToInt(Integer::intValue).max()
        .orElseGet(() -> stored.map(p -> p.services().stream()
            .mapToInt(entry -> Integer.parseInt(entry.substring(entry.indexOf('=') + 1))).max().orElse(0))
            .orElse(0));
    List<HostRecord> fleet = hosts.list();
    var placement = PlacementReview.review(request.getName(), request.getHostsList(), request.getLabelsMap(),
        instances, fleet);
    if (placement.refused()) {
      throw Deployments.refusal(placement);
    }
    String label = !request.getVersion().isBlank() ? request.getVersion()
        : stored.map(PayloadStore.PayloadRecord::versionLabel).orElse(sha256.substring(0, 12));
    PayloadRef to = PayloadRef.newBuilder().setSha256(sha256).setVersion(label).build();
    Optional<DeploymentRecord> existing = store.find(request.getName());

    PlanDeploymentResponse.Builder out = PlanDeploymentResponse.newBuilder()
        .setName(request.getName())
        .setExists(existing.isPresent())
        .setPayloadStored(stored.isPresent())
        .setInstances(instances)
        .addAllWarnings(placement.warnings());
    List<String> changing = new ArrayList<>();
    TreeSet<String> named = new TreeSet<>(placement.placed());
    for (HostRecord host : fleet) {
      Optional<DesiredAgent> now = desiredStates.find(host.name(), request.getName());
      boolean placed = named.contains(host.name());
      if (!placed && now.isEmpty()) {
        continue;
      }
      PlannedHost.Builder planned = PlannedHost.newBuilder().setHostName(host.name()).putAllLabels(host.labels());
      now.ifPresent(agent -> planned.setFrom(agent.getPayload()));
      if (!placed) {
        planned.setChange(PlanChange.PLAN_CHANGE_REMOVE);
      } else {
        planned.setTo(to);
        if (now.isEmpty()) {
          planned.setChange(PlanChange.PLAN_CHANGE_INSTALL);
          changing.add(host.name());
        } else if (now.get().getPayload().getSha256().equals(sha256)) {
          planned.setChange(PlanChange.PLAN_CHANGE_UNCHANGED);
        } else {
          planned.setChange(PlanChange.PLAN_CHANGE_UPDATE);
          changing.add(host.name());
        }
      }
      out.addHosts(planned);
    }
    for (var batch : PlannedBatches.of(changing, request.getMaxParallel(), request.getCanary())) {
      out.addBatches(PlannedBatch.newBuilder().setNumber(batch.number()).addAllHostNames(batch.hosts())
          .setCanary(batch.canary()));
    }
    existing.ifPresentOrElse(old -> {
      boolean newVersion = !old.payloadSha256().equals(sha256);
      out.setGeneration(newVersion ? old.generation() + 1 : old.generation());
      if (old.paused()) {
        out.addWarnings("deployment " + old.name() + " is paused: a deploy is stored, but hosts keep what they "
            + "run until `infraveil ctl resume " + old.name() + "`");
      }
    }, () -> out.setGeneration(1));
    return out.build();
  }
}
