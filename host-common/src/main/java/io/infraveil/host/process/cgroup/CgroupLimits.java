package io.infraveil.host.process.cgroup;

import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/** Limits for one cgroup; an empty value means "no limit" (and clears an earlier one). */
public record CgroupLimits(OptionalLong memoryBytes, OptionalDouble cpus, OptionalLong pids) {

  public static final CgroupLimits NONE =
      new CgroupLimits(OptionalLong.empty(), OptionalDouble.empty(), OptionalLong.empty());

  public CgroupLimits {
    Objects.requireNonNull(memoryBytes, "memoryBytes");
    Objects.requireNonNull(cpus, "cpus");
    Objects.requireNonNull(pids, "pids");
  }
}
