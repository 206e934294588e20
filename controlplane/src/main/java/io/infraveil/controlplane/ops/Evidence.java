package io.infraveil.controlplane.ops;

import io.infraveil.proto.v1.EvidenceSource;
import java.time.Instant;
import java.util.Objects;

/**
 * One piece of operational evidence from any of the six sources, as it goes into history and
 * incident timelines. Host, deployment, service and identity are empty strings when unknown.
 *
 * @param identity the caller identity (request traces and security events), else empty
 */
public record Evidence(Instant at, EvidenceSource source, String host, String deployment,
    String service, String identity, String text) {

  public Evidence {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(source, "source");
    host = host == null ? "" : host;
    deployment = deployment == null ? "" : deployment;
    service = service == null ? "" : service;
    identity = identity == null ? "" : identity;
    Objects.requireNonNull(text, "text");
  }
}
