package io.infraveil.controlplane.rollout;

import java.time.Instant;
import java.util.Objects;

/**
 * One placed host in a rollout.
 *
 * @param fromEntry the host's serialized desired entry before the rollout (null: it had none),
 *     which it keeps while PENDING
 * @param batch the batch it was moved in, 0 while pending
 * @param healthySince since when it has run the new version with every service healthy, or null
 * @param detail why it failed, or what it waits for
 */
record RolloutHostEntry(String host, int position, HostPhase phase, int batch, boolean canary,
    byte[] fromEntry, Instant movedAt, Instant healthySince, Instant finishedAt, String detail) {

  RolloutHostEntry {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(phase, "phase");
    detail = detail == null ? "" : detail;
  }

  static RolloutHostEntry pending(String host, int position, byte[] fromEntry) {
    return new RolloutHostEntry(host, position, HostPhase.PENDING, 0, false, fromEntry, null, null, null, "");
  }

  RolloutHostEntry moved(int inBatch, boolean asCanary, Instant at) {
    requirePhase(HostPhase.PENDING);
    return new RolloutHostEntry(host, position, HostPhase.UPDATING, inBatch, asCanary, fromEntry, at, null, null,
        "");
  }

  RolloutHostEntry healthySince(Instant since) {
    requirePhase(HostPhase.UPDATING);
    return new RolloutHostEntry(host, position, phase, batch, canary, fromEntry, movedAt, since, finishedAt,
        detail);
  }

  RolloutHostEntry healthy(Instant at) {
    requirePhase(HostPhase.UPDATING);
    return new RolloutHostEntry(host, position, HostPhase.HEALTHY, batch, canary, fromEntry, movedAt,
        healthySince, at, "");
  }

  RolloutHostEntry failed(String why, Instant at) {
    requirePhase(HostPhase.UPDATING);
    return new RolloutHostEntry(host, position, HostPhase.FAILED, batch, canary, fromEntry, movedAt, null, at,
        why);
  }

  RolloutHostEntry reverted(Instant at) {
    if (!phase.moved()) {
      throw new IllegalStateException("host " + host + " is " + phase + ", expected a moved host to revert");
    }
    String why = phase == HostPhase.FAILED ? detail : "";
    return new RolloutHostEntry(host, position, HostPhase.REVERTED, batch, canary, fromEntry, movedAt, null, at,
        why);
  }

  RolloutHostEntry waiting(String why) {
    return new RolloutHostEntry(host, position, phase, batch, canary, fromEntry, movedAt, healthySince,
        finishedAt, why);
  }

  private void requirePhase(HostPhase expected) {
    if (phase != expected) {
      throw new IllegalStateException("host " + host + " is " + phase + ", expected " + expected);
    }
  }
}
