package io.infraveil.controlplane.deploy;

import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.HostStore.HostRecord;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which hosts a deployment runs on: the named hosts, or every host whose labels all match,
 * never a revoked one, in name order. {@code instances} does not cap either kind of target: it
 * is how many hosts the deployment should have, and fewer is a warning
 * ({@link PlacementReview}). Targets are checked against the fleet when they are stored; this
 * only follows the fleet as hosts enroll, change or are revoked.
 */
final class Placement {

  private Placement() {}

  static List<String> placedHosts(DeploymentRecord deployment, List<HostRecord> hosts) {
    List<HostRecord> eligible = hosts.stream()
        .filter(host -> !host.revoked())
        .sorted(Comparator.comparing(HostRecord::name))
        .toList();
    if (!deployment.hosts().isEmpty()) {
      Set<String> named = new HashSet<>(deployment.hosts());
      return eligible.stream().map(HostRecord::name).filter(named::contains).toList();
    }
    return eligible.stream()
        .filter(host -> PlacementReview.matches(host.labels(), deployment.labels()))
        .map(HostRecord::name)
        .toList();
  }
}
