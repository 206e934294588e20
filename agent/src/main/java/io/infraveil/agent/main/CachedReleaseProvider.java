package io.infraveil.agent.main;

import io.infraveil.agent.ReleaseProvider;
import io.infraveil.host.payload.CacheResult;
import io.infraveil.proto.v1.PayloadRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Release directories under {@code <agentDir>/releases/<sha256>/}, extracted from the verified
 * payload cache on first use. Only versions the agent may run are served (the desired one, the
 * known good ones kept for rollback, the one the agent chose to keep running); anything else
 * is refused before a byte is extracted. A release already on disk needs no network.
 *
 * <p>A cache entry whose bytes fail verification while extracting is evicted, reported once
 * through {@link Evictions} and fetched again, so the version runs again without anyone
 * clearing the cache; only when the fresh copy cannot be had does extraction fail.
 */
final class CachedReleaseProvider implements ReleaseProvider {

  /** Hears each cache entry evicted because its bytes failed verification. */
  @FunctionalInterface
  interface Evictions {
    void evicted(String sha256, String why, CacheResult refetched);
  }

  private final Path releasesDir;
  private final PayloadStore store;
  private final Predicate<String> allowed;
  private final Function<String, Optional<PayloadRef>> refs;
  private final Evictions evictions;

  CachedReleaseProvider(Path releasesDir, PayloadStore store, Predicate<String> allowed,
      Function<String, Optional<PayloadRef>> refs, Evictions evictions) {
    this.releasesDir = Objects.requireNonNull(releasesDir, "releasesDir");
    this.store = Objects.requireNonNull(store, "store");
    this.allowed = Objects.requireNonNull(allowed, "allowed");
    this.refs = Objects.requireNonNull(refs, "refs");
    this.evictions = Objects.requireNonNull(evictions, "evictions");
  }

  @Override
  public Path releaseDir(String sha256) throws IOException {
    if (!sha256.matches("[0-9a-f]{64}")) {
      throw new IOException("\"" + sha256 + "\" is not a payload hash");
    }
    if (!allowed.test(sha256)) {
      throw new IOException("version " + sha256
          + " is neither the desired version nor a known good version kept here");
    }
    if (isExtracted(sha256)) {
      return releasesDir.resolve(sha256);
    }
    PayloadRef ref = refs.apply(sha256).orElse(PayloadRef.newBuilder().setSha256(sha256).build());
    Files.createDirectories(releasesDir);
    try {
      return store.extract(ref, releasesDir);
    } catch (CachedBytesRejectedException e) {
      CacheResult refetched = store.refetch(ref, e.getMessage());
      evictions.evicted(sha256, e.getMessage(), refetched);
      if (refetched.status() != CacheResult.Status.CACHED) {
        throw new IOException(e.getMessage() + "; evicted, and fetching it again failed: "
            + refetched.message(), e);
      }
      return store.extract(ref, releasesDir);
    }
  }

  /** True when the release directory of {@code sha256} is on disk. */
  boolean isExtracted(String sha256) {
    return Files.isRegularFile(releasesDir.resolve(sha256).resolve("config.yaml"));
  }
}
