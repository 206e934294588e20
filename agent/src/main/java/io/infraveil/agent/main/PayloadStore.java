package io.infraveil.agent.main;

import io.infraveil.host.payload.CacheResult;
import io.infraveil.host.payload.PayloadOrigin;
import io.infraveil.proto.v1.PayloadRef;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The agent's view of the host payload cache: make sure a payload is fetched and verified, and
 * turn a verified cache entry into a release directory. {@link CachePayloadStore} is backed by
 * {@code PayloadCache} and {@code ReleaseExtractor}; tests use prepared directories.
 */
public interface PayloadStore {

  /**
   * Fetches (with resume) and verifies {@code desired} unless it is cached already;
   * {@code origin} says who chose it (the launcher's own fallback may be an older sequence).
   */
  CacheResult ensureCached(PayloadRef desired, PayloadOrigin origin);

  /**
   * Returns {@code releasesDir/<sha256>/}, extracting the verified cache entry of
   * {@code payload} when it is not there yet (it appears whole or not at all).
   *
   * @throws CachedBytesRejectedException the cached bytes no longer verify: {@link #refetch}
   * @throws IOException not in the cache, or disk trouble; the message says which
   */
  Path extract(PayloadRef payload, Path releasesDir) throws IOException;

  /**
   * Evicts the cache entry of {@code payload}, whose bytes failed verification ({@code why}),
   * and fetches it again; the result says whether it is cached now.
   */
  default CacheResult refetch(PayloadRef payload, String why) {
    return CacheResult.unavailable("this payload store cannot fetch again: " + why);
  }
}
