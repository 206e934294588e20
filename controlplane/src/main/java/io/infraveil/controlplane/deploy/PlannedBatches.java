package io.infraveil.controlplane.deploy;

import java.util.ArrayList;
import java.util.List;

/**
 * The order in which a plan moves hosts: the first {@code canary} hosts (by name) as one canary
 * batch, then the rest {@code maxParallel} at a time. Hosts that would not change are in no
 * batch. A pure function, so plan output is stable.
 */
final class PlannedBatches {

  /** One batch. */
  record Batch(int number, List<String> hosts, boolean canary) {
    Batch {
      hosts = List.copyOf(hosts);
    }
  }

  private PlannedBatches() {}

  static List<Batch> of(List<String> changing, int maxParallel, int canary) {
    if (maxParallel < 0 || canary < 0) {
      throw new IllegalArgumentException("max_parallel and canary must not be negative, got "
          + maxParallel + " and " + canary);
    }
    int perBatch = maxParallel == 0 ? 1 : maxParallel;
    List<Batch> out = new ArrayList<>();
    int next = 0;
    if (canary > 0 && !changing.isEmpty()) {
      int end = Math.min(canary, changing.size());
      out.add(new Batch(1, changing.subList(0, end), true));
      next = end;
    }
    while (next < changing.size()) {
      int end = Math.min(next + perBatch, changing.size());
      out.add(new Batch(out.size() + 1, changing.subList(next, end), false));
      next = end;
    }
    return out;
  }
}
