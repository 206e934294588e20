package io.infraveil.agent.main;

import io.infraveil.agent.ReleaseProvider;
import io.infraveil.host.payload.CacheResult;
import io.infraveil.host.payload.ReleaseExtractor;
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
 * through {@link Repairs} and fetched again, so the version runs again without anyone
 * clearing the cache; only when the fresh copy cannot be had does extraction fail. A release
 * dir that no longer matches its payload (its marker's file list) is extracted again, also
 * reported once.
 */
final class CachedReleaseProvider implements ReleaseProvider {

  /**
   * Hears each repair: a cache entry evicted because its bytes failed verification (then
   * fetched again), or a release dir that no longer matched its payload (then extracted again).
   */
  @FunctionalInterface
  interface Repairs {
    void repaired(String sha256, String what);
  }

  private final Path releasesDir;
  private final PayloadStore store;
  private final Predicate<String> allowed;
  private final Function<String, Optional<PayloadRef>> refs;
  private final Repairs repairs;

  CachedReleaseProvider(Path releasesDir, PayloadStore store, Predicate<String> allowed,
      Function<String, Optional<PayloadRef>> refs, Repairs repairs) {
    this.releasesDir = Objects.requireNonNull(releasesDir, "releasesDir");
    this.store = Objects.requireNonNull(store, "store");
    this.allowed = Objects.requireNonNull(allowed, "allowed");
    this.refs = Objects.requireNonNull(refs, "refs");
    this.repairs = Objects.requireNonNull(repairs, "repairs");
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
    Path release = releasesDir.resolve(sha256);
    if (isExtracted(sha256)) {
      // Dirs without a marker were not made by the extractor (prepared ones in tests).
      Optional<String> mismatch = Files.isRegularFile(release.resolve(
          ReleaseExtractor.COMPLETE_MARKER)) ? ReleaseExtractor.mismatch(release, sha256)
          : Optional.empty();
      if (mismatch.isEmpty()) {
        return release;
      }
      // Not what the payload holds: extracted again from the verified cache (the extractor
      // removes the dir), and said once.
      repairs.repaired(sha256, "release dir " + release + " did not match payload " + sha256
          + " (" + mismatch.get() + "); extracted again");
    }
    PayloadRef ref = refs.apply(sha256).orElse(PayloadRef.newBuilder().setSha256(sha256).build());
    Files.createDirectories(releasesDir);
    try {
      return store.extract(ref, releasesDir);
    } catch (CachedBytesRejectedException e) {
      CacheResult refetched = store.refetch(ref, e.getMessage());
      repairs.repaired(sha256, e.getMessage() + "; evicted and fetched again: "
          + refetched.message());
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
