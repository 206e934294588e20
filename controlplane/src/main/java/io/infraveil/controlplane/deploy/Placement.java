package io.infraveil.controlplane.deploy;

import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.HostStore.HostRecord;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Which hosts a deployment runs on: the named hosts, or the hosts whose labels all match,
 * never a revoked one. With labels, {@code instances} from config.yaml caps the count (the
 * first hosts by name, so placement is stable); named hosts are all used.
 */
final class Placement {

  private Placement() {}

  static List<String> placedHosts(DeploymentRecord deployment, List<HostRecord> hosts) {
    List<HostRecord> eligible = hosts.stream()
        .filter(host -> !host.revoked())
        .sorted(Comparator.comparing(HostRecord::name))
        .toList();
    if (!deployment.hosts().isEmpty()) {
      return eligible.stream().map(HostRecord::name).filter(deployment.hosts()::contains).toList();
    }
    List<String> matching = eligible.stream()
        .filter(host -> matches(host.labels(), deployment.labels()))
        .map(HostRecord::name)
        .toList();
    int cap = deployment.maxInstances();
    return cap > 0 && matching.size() > cap ? matching.subList(0, cap) : matching;
  }

  private static boolean matches(Map<String, String> hostLabels, Map<String, String> wanted) {
    return !wanted.isEmpty()
        && wanted.entrySet().stream().allMatch(e -> e.getValue().equals(hostLabels.get(e.getKey())));
  }
}
