package io.infraveil.launcher;

import io.infraveil.host.payload.CacheResult;
import io.infraveil.host.payload.PayloadCache;
import io.infraveil.host.payload.PayloadOrigin;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.PayloadRef;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.Objects;

/**
 * Prefetches into the host's shared cache before an agent is started: fetch (resumable),
 * verify (MAC, hash, records), then atomic rename. A payload that fails a check is not
 * cached and no agent is started for it; the running agent keeps running. A cached entry whose
 * bytes failed verification is evicted and fetched again by the cache; each eviction becomes
 * one PAYLOAD_REJECTED event (reason CACHE_ENTRY_EVICTED) for the next Sync report.
 */
final class CachePrefetcher implements PayloadPrefetcher {

  /** Reason of the event reporting an evicted cache entry (the agent reports it alike). */
  static final String CACHE_ENTRY_EVICTED = "CACHE_ENTRY_EVICTED";

  private final PayloadCache cache;
  private final Clock clock;
  private final LauncherLog log;
  private final Queue<HostEvent> events = new ConcurrentLinkedQueue<>();

  CachePrefetcher(PayloadCache cache, Clock clock, LauncherLog log) {
    this.cache = Objects.requireNonNull(cache, "cache");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.log = Objects.requireNonNull(log, "log");
  }

  /** Evictions since the last call, oldest first. */
  List<HostEvent> drainEvents() {
    List<HostEvent> out = new ArrayList<>();
    for (HostEvent event; (event = events.poll()) != null; ) {
      out.add(event);
    }
    return out;
  }

  @Override
  public PrefetchResult ensureCached(String deployment, PayloadRef payload) {
    return ensureCached(deployment, payload, PayloadOrigin.CONTROL_PLANE);
  }

  @Override
  public PrefetchResult ensureCached(String deployment, PayloadRef payload,
      PayloadOrigin origin) {
    CacheResult result = cache.ensureCached(deployment, payload, origin);
    if (result.evicted() != null) {
      String message = result.evicted() + "; fetched again: " + result.message();
      log.event("cache_entry_evicted", "deployment", deployment, "payload", payload.getSha256(),
          "outcome", result.status(), "error", message);
      events.add(HostEvent.newBuilder().setAt(Reconciler.timestamp(clock.instant()))
          .setKind(EventKind.EVENT_KIND_PAYLOAD_REJECTED).setDeployment(deployment)
          .setPayload(payload).setReason(CACHE_ENTRY_EVICTED).setMessage(message).build());
    }
    return switch (result.status()) {
      case CACHED -> PrefetchResult.ok();
      case REJECTED -> PrefetchResult.failed("PAYLOAD_REJECTED_" + result.reason().name());
      case UNAVAILABLE -> PrefetchResult.failed("PAYLOAD_UNAVAILABLE");
    };
  }
}
