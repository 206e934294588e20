package io.infraveil.launcher;

import io.infraveil.host.payload.CacheResult;
import io.infraveil.host.payload.PayloadCache;
import io.infraveil.host.payload.PayloadOrigin;
import io.infraveil.proto.v1.PayloadRef;
import java.util.Objects;

/**
 * Prefetches into the host's shared cache before an agent is started: fetch (resumable),
 * verify (MAC, hash, records), then atomic rename. A payload that fails a check is not
 * cached and no agent is started for it; the running agent keeps running.
 */
final class CachePrefetcher implements PayloadPrefetcher {

  private final PayloadCache cache;

  CachePrefetcher(PayloadCache cache) {
    this.cache = Objects.requireNonNull(cache, "cache");
  }

  @Override
  public PrefetchResult ensureCached(String deployment, PayloadRef payload) {
    return ensureCached(deployment, payload, PayloadOrigin.CONTROL_PLANE);
  }

  @Override
  public PrefetchResult ensureCached(String deployment, PayloadRef payload,
      PayloadOrigin origin) {
    CacheResult result = cache.ensureCached(deployment, payload, origin);
    return switch (result.status()) {
      case CACHED -> PrefetchResult.ok();
      case REJECTED -> PrefetchResult.failed("PAYLOAD_REJECTED_" + result.reason().name());
      case UNAVAILABLE -> PrefetchResult.failed("PAYLOAD_UNAVAILABLE");
    };
  }
}
