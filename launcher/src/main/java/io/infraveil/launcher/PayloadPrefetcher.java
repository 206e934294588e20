package io.infraveil.launcher;

import io.infraveil.host.payload.PayloadOrigin;
import io.infraveil.proto.v1.PayloadRef;

/**
 * Makes sure a payload is fetched, verified and cached before an agent is started for it. The
 * agent reads it from the cache; the launcher only refuses to start an agent whose payload
 * could not be cached.
 */
public interface PayloadPrefetcher {

  /** The outcome; a failure is a value with a machine-readable reason, not an exception. */
  record PrefetchResult(boolean cached, String reason) {
    public static PrefetchResult ok() {
      return new PrefetchResult(true, "CACHED");
    }

    public static PrefetchResult failed(String reason) {
      return new PrefetchResult(false, reason);
    }
  }

  PrefetchResult ensureCached(String deployment, PayloadRef payload);

  /**
   * As above, for a payload chosen by {@code origin}: the launcher's own fallback to its last
   * known good may be older than what pinned publisher keys accepted last. Prefetchers that
   * check no sequence (the fakes of tests, {@link #AGENT_FETCHES}) need not tell them apart.
   */
  default PrefetchResult ensureCached(String deployment, PayloadRef payload,
      PayloadOrigin origin) {
    return ensureCached(deployment, payload);
  }

  /** Leaves fetching to the agent (which checks the payload itself before running it). */
  PayloadPrefetcher AGENT_FETCHES = (deployment, payload) -> PrefetchResult.ok();
}
