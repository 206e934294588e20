package io.infraveil.controlplane.rollout;

import io.grpc.Status;
import io.infraveil.proto.v1.RolloutStrategy;
import java.time.Duration;

/**
 * How a new version moves through a deployment's hosts, every field set. Unset fields of a
 * request keep the deployment's previous strategy, or take {@link #DEFAULTS}.
 */
public record Strategy(int maxParallel, int canary, Duration minHealthyTime, Duration healthyDeadline,
    boolean autoPromote, boolean autoRevert) {

  public static final Strategy DEFAULTS =
      new Strategy(1, 0, Duration.ofSeconds(10), Duration.ofMinutes(5), false, true);

  public Strategy {
    if (maxParallel < 1) {
      throw invalid("max_parallel must be at least 1, got " + maxParallel);
    }
    if (canary < 0) {
      throw invalid("canary must not be negative, got " + canary);
    }
    if (minHealthyTime.isNegative()) {
      throw invalid("min_healthy_time must not be negative, got " + minHealthyTime);
    }
    if (healthyDeadline.isNegative() || healthyDeadline.isZero()) {
      throw invalid("healthy_deadline must be positive, got " + healthyDeadline);
    }
    if (healthyDeadline.compareTo(minHealthyTime) <= 0) {
      throw invalid("healthy_deadline (" + healthyDeadline + ") must be longer than min_healthy_time ("
          + minHealthyTime + "): a host could never count as healthy in time");
    }
  }

  /** This strategy with the fields {@code request} sets replaced. */
  public Strategy with(RolloutStrategy request) {
    return new Strategy(
        request.hasMaxParallel() ? request.getMaxParallel() : maxParallel,
        request.hasCanary() ? request.getCanary() : canary,
        request.hasMinHealthyTime() ? duration(request.getMinHealthyTime()) : minHealthyTime,
        request.hasHealthyDeadline() ? duration(request.getHealthyDeadline()) : healthyDeadline,
        request.hasAutoPromote() ? request.getAutoPromote() : autoPromote,
        request.hasAutoRevert() ? request.getAutoRevert() : autoRevert);
  }

  public RolloutStrategy toProto() {
    return RolloutStrategy.newBuilder()
        .setMaxParallel(maxParallel)
        .setCanary(canary)
        .setMinHealthyTime(proto(minHealthyTime))
        .setHealthyDeadline(proto(healthyDeadline))
        .setAutoPromote(autoPromote)
        .setAutoRevert(autoRevert)
        .build();
  }

  /** How many batches {@code hosts} placed hosts take. */
  public int batches(int hosts) {
    int canaries = Math.min(canary, hosts);
    int rest = hosts - canaries;
    return (canaries > 0 ? 1 : 0) + (rest + maxParallel - 1) / maxParallel;
  }

  private static Duration duration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }

  private static com.google.protobuf.Duration proto(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  private static RuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription("rollout strategy: " + message).asRuntimeException();
  }
}
