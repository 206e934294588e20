package io.infraveil.agent.main;

import io.grpc.Channel;
import io.infraveil.host.payload.CacheLayout;
import io.infraveil.host.payload.CacheResult;
import io.infraveil.host.payload.PayloadCache;
import io.infraveil.host.payload.PayloadOrigin;
import io.infraveil.host.payload.ReleaseExtractor;
import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.proto.v1.PayloadRef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/** {@link PayloadStore} over the host's shared cache under {@code DATA/cache/}. */
final class CachePayloadStore implements PayloadStore {

  private final String deployment;
  private final CacheLayout layout;
  private final PayloadCache cache;
  private final ReleaseExtractor extractor;
  private final HostKeys keys;
  /** Who chose each payload this agent asked for, so a refetch is judged the same way. */
  private final java.util.Map<String, PayloadOrigin> origins =
      new java.util.concurrent.ConcurrentHashMap<>();

  CachePayloadStore(String deployment, CacheLayout layout, PayloadCache cache,
      ReleaseExtractor extractor, HostKeys keys) {
    this.deployment = Objects.requireNonNull(deployment, "deployment");
    this.layout = Objects.requireNonNull(layout, "layout");
    this.cache = Objects.requireNonNull(cache, "cache");
    this.extractor = Objects.requireNonNull(extractor, "extractor");
    this.keys = Objects.requireNonNull(keys, "keys");
  }

  /** The cache of the host data dir, fetching over {@code channel} with the host's keys. */
  static CachePayloadStore forHost(Path dataDir, String deployment, Channel channel,
      byte[] hostSecret) throws IOException {
    CacheLayout layout = new CacheLayout(dataDir);
    HostKeys keys = HostKeys.fromSecret(hostSecret);
    PayloadCache cache = PayloadCache.forHost(layout, channel, keys);
    return new CachePayloadStore(deployment, layout, cache, new ReleaseExtractor(), keys);
  }

  @Override
  public CacheResult ensureCached(PayloadRef desired, PayloadOrigin origin) {
    origins.put(desired.getSha256(), origin);
    return cache.ensureCached(deployment, desired, origin);
  }

  @Override
  public Path extract(PayloadRef payload, Path releasesDir) throws IOException {
    try {
      return extractor.extract(layout.entryDir(payload.getSha256()), deployment, payload, keys,
          releasesDir);
    } catch (PayloadRejectedException e) {
      throw new CachedBytesRejectedException("cached payload " + payload.getSha256()
          + " no longer verifies and was not extracted (" + e.reason() + ": " + e.getMessage()
          + ")", e);
    }
  }

  @Override
  public CacheResult refetch(PayloadRef payload, String why) {
    // A launcher fallback's payload is fetched again as what it was asked for: a fallback.
    return cache.refetch(deployment, payload, why,
        origins.getOrDefault(payload.getSha256(), PayloadOrigin.CONTROL_PLANE));
  }
}
