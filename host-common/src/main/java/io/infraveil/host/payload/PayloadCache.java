package io.infraveil.host.payload;

import io.infraveil.host.fs.AtomicFiles;
import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.PayloadRef;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;
import java.util.Optional;

/**
 * Makes sure a payload is in the cache, encrypted and verified, before anything runs it.
 *
 * <pre>
 * ensureCached(deployment, desired)
 *   cache/&lt;sha&gt;/ exists --&gt; header for (deployment, sequence) there? verify it (MAC, key)
 *                          else fetch the header only, verify it against the cached bytes,
 *                          keep it as header-&lt;deployment&gt;-&lt;sequence&gt;.pb --&gt; CACHED
 *                          cached bytes fail --&gt; entry evicted, fetched again as below;
 *                          the result says what was evicted (report it once)
 *   otherwise ------------&gt; fetch (resume) --&gt; verify --&gt; assemble .partial/&lt;sha&gt;.tmpdir,
 *                          fsync, rename to cache/&lt;sha&gt;/, fsync cache/ --&gt; CACHED
 *   sequence replayed ----&gt; (publisher keys pinned) nothing fetched or read --&gt; REJECTED
 *   a failed check -------&gt; partial files deleted (never kept, never resumed) --&gt; REJECTED
 *   network or disk ------&gt; assembly dir removed, download kept to resume --&gt; UNAVAILABLE
 * </pre>
 *
 * <p>A download that was resumed and then fails verification is fetched once more from byte
 * 0 before the payload is rejected: a power cut can leave an unsynced, torn tail in the
 * partial file, which is damage, not tampering. Calls for one hash are serialized within the
 * JVM; a second process gets UNAVAILABLE while the first holds the hash.
 *
 * <p>An entry is trusted only as far as it verifies: one whose bytes fail (replaced at rest by
 * another version's, say) is evicted and fetched again, here or through {@link #refetch} when
 * extraction finds it, so the version can run again without anyone clearing the cache.
 */
public final class PayloadCache {

  private final CacheLayout layout;
  private final PayloadFetcher fetcher;
  private final PayloadVerifier verifier;
  private final PublisherTrust publishers;
  private final CacheFiles files;

  public PayloadCache(CacheLayout layout, PayloadFetcher fetcher, PayloadVerifier verifier,
      PublisherTrust publishers, CacheFiles files) {
    this.layout = Objects.requireNonNull(layout, "layout");
    this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
    this.verifier = Objects.requireNonNull(verifier, "verifier");
    this.publishers = Objects.requireNonNull(publishers, "publishers");
    this.files = Objects.requireNonNull(files, "files");
  }

  /**
   * The cache of a host data dir, fetching over {@code channel} and verifying with the host's
   * keys and pinned publishers: how the launcher and the agent both build it.
   */
  public static PayloadCache forHost(CacheLayout layout, io.grpc.Channel channel,
      io.infraveil.payload.trust.HostKeys keys) throws java.io.IOException {
    PublisherTrust publishers = PublisherTrust.fromHost(layout);
    return new PayloadCache(layout,
        new PayloadFetcher(channel, layout, CacheFiles.DEFAULT, PayloadFetcher.Settings.DEFAULTS),
        new PayloadVerifier(keys, publishers), publishers, CacheFiles.DEFAULT);
  }

  /** {@link #ensureCached(String, PayloadRef, PayloadOrigin)} for the control plane's choice. */
  public CacheResult ensureCached(String deployment, PayloadRef desired) {
    return ensureCached(deployment, desired, PayloadOrigin.CONTROL_PLANE);
  }

  /**
   * Makes sure {@code desired} is cached and verified; {@code origin} says who chose it, which
   * only matters for the replay check with pinned publisher keys ({@link PayloadOrigin}).
   */
  public CacheResult ensureCached(String deployment, PayloadRef desired, PayloadOrigin origin) {
    return locked(deployment, desired, null, origin);
  }

  /**
   * Evicts the entry of {@code desired} (its bytes failed verification elsewhere, for example
   * while extracting: {@code why}) and fetches it again; the result carries {@code why} as
   * {@link CacheResult#evicted()}.
   */
  public CacheResult refetch(String deployment, PayloadRef desired, String why) {
    return refetch(deployment, desired, why, PayloadOrigin.CONTROL_PLANE);
  }

  /** As above, for a payload chosen by {@code origin} (see {@link PayloadOrigin}). */
  public CacheResult refetch(String deployment, PayloadRef desired, String why,
      PayloadOrigin origin) {
    Objects.requireNonNull(why, "why");
    return locked(deployment, desired, why, origin);
  }

  private CacheResult locked(String deployment, PayloadRef desired, String evict,
      PayloadOrigin origin) {
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(deployment, "deployment");
    Objects.requireNonNull(desired, "desired");
    String sha = desired.getSha256();
    Path lockFile;
    try {
      lockFile = layout.lockFile(sha);
    } catch (IllegalArgumentException e) {
      return CacheResult.rejected(RejectionReason.HASH_MISMATCH,
          "desired state for deployment '" + deployment + "' names no valid hash: "
              + e.getMessage());
    }
    try (ShaLocks.Held held = ShaLocks.acquire(lockFile, true).orElse(null)) {
      if (held == null) {
        return CacheResult.unavailable("payload " + sha
            + " is being fetched by another process on this host; try again");
      }
      if (evict != null) {
        FileTrees.deleteRecursively(layout.entryDir(sha));
        CacheResult fetched = ensureLocked(deployment, desired, sha, origin);
        return fetched.evicted() != null ? fetched : fetched.afterEviction(evict);
      }
      return ensureLocked(deployment, desired, sha, origin);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CacheResult.unavailable("interrupted while waiting for payload " + sha);
    } catch (IOException | UncheckedIOException e) {
      IOException cause = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
      return CacheResult.unavailable("payload " + sha + " for deployment '" + deployment
          + "' could not be cached: " + cause.getMessage());
    }
  }

  private CacheResult ensureLocked(String deployment, PayloadRef desired, String sha,
      PayloadOrigin origin) throws IOException {
    try {
      // A replayed version is refused before any byte is fetched or any cached byte is read,
      // even when it is still in the cache from the time it was current.
      publishers.checkSequence(deployment, desired.getSequence(), sha, origin);
    } catch (PayloadRejectedException e) {
      return rejected(Verification.of(e));
    }
    Path entry = layout.entryDir(sha);
    if (Files.isDirectory(entry)
        && Files.isRegularFile(entry.resolve(CacheLayout.CIPHERTEXT))) {
      Verification cached = useCached(deployment, desired, entry, origin);
      if (cached.isOk()) {
        return CacheResult.cached(entry);
      }
      if (!failedAtRest(cached.reason())) {
        return rejected(cached); // the header was refused, not the bytes: nothing to heal
      }
      // The bytes at rest do not verify: a refusal every few seconds for ever would help
      // nobody. Evict them and fetch again; a fresh download that fails too is REJECTED.
      FileTrees.deleteRecursively(entry);
      return fetchAndVerify(deployment, desired, sha, origin).afterEviction("cache entry " + sha
          + " failed verification and was evicted (" + cached.reason() + ": "
          + cached.message() + ")");
    }
    if (Files.exists(entry)) {
      // Not something this class ever makes (an entry appears whole, by rename): rebuild it.
      FileTrees.deleteRecursively(entry);
    }
    return fetchAndVerify(deployment, desired, sha, origin);
  }

  private CacheResult fetchAndVerify(String deployment, PayloadRef desired, String sha,
      PayloadOrigin origin) throws IOException {
    // Left by a crash between assembling and renaming: never trusted, rebuilt from scratch.
    FileTrees.deleteRecursively(layout.assemblyDir(sha));
    Path entry = layout.entryDir(sha);
    for (int attempt = 0; ; attempt++) {
      PayloadFetcher.FetchResult fetched =
          fetcher.fetch(deployment, desired, h -> checkHeader(deployment, desired, h, origin));
      if (fetched instanceof PayloadFetcher.FetchResult.Refused refused) {
        discardPartial(sha);
        return rejected(refused.verification());
      }
      PayloadFetcher.FetchResult.Complete complete =
          (PayloadFetcher.FetchResult.Complete) fetched;
      Verification verdict = verifier.verify(deployment, desired, complete.header(),
          layout.partialCiphertext(sha), origin);
      if (!verdict.isOk()) {
        discardPartial(sha);
        if (complete.resumedFrom() > 0 && attempt == 0) {
          continue;
        }
        return rejected(verdict);
      }
      assemble(sha, complete.header());
      publishers.recordAccepted(deployment, desired.getSequence(), sha);
      return CacheResult.cached(entry);
    }
  }

  /** Checks an entry on disk for {@code desired}; not OK when its bytes fail verification. */
  private Verification useCached(String deployment, PayloadRef desired, Path entry,
      PayloadOrigin origin) throws IOException {
    String sha = desired.getSha256();
    long sequence = desired.getSequence();
    Optional<FetchHeader> stored = EntryHeaders.find(entry, deployment, sequence);
    if (stored.isPresent() && checkHeader(deployment, desired, stored.get(), origin).isOk()) {
      publishers.recordAccepted(deployment, sequence, sha);
      return Verification.ok();
    }
    long size = Files.size(entry.resolve(CacheLayout.CIPHERTEXT));
    Optional<FetchHeader> first = EntryHeaders.read(entry.resolve(CacheLayout.HEADER));
    if (first.isPresent() && first.get().getCiphertextSize() != size) {
      // The bytes changed size since they were verified: no header can open them.
      return Verification.rejected(RejectionReason.SIZE_MISMATCH, "cached ciphertext of " + sha
          + " is " + size + " bytes; it was " + first.get().getCiphertextSize()
          + " when verified");
    }
    // No header for this deployment and sequence, or one that no longer verifies (a new host
    // secret): ask for the header alone and prove it opens the bytes already cached.
    FetchHeader fresh = fetcher.fetchHeader(deployment, sha, size);
    Verification verdict = verifier.verify(deployment, desired, fresh,
        entry.resolve(CacheLayout.CIPHERTEXT), origin);
    if (!verdict.isOk()) {
      return verdict;
    }
    AtomicFiles.write(entry.resolve(CacheLayout.headerFileName(deployment, sequence)),
        fresh.toByteArray());
    publishers.recordAccepted(deployment, sequence, sha);
    return Verification.ok();
  }

  /** Reasons that condemn the bytes on disk rather than what the control plane sent. */
  static boolean failedAtRest(RejectionReason reason) {
    return switch (reason) {
      case DECRYPT_FAILED, TRUNCATED, TRAILING_DATA, HASH_MISMATCH, SIZE_MISMATCH -> true;
      default -> false;
    };
  }

  private Verification checkHeader(String deployment, PayloadRef desired, FetchHeader header,
      PayloadOrigin origin) {
    try {
      return verifier.checkHeader(deployment, desired, header, origin);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void assemble(String sha, FetchHeader header) throws IOException {
    Path tmp = layout.assemblyDir(sha);
    try {
      Files.createDirectories(tmp);
      Path ciphertext = tmp.resolve(CacheLayout.CIPHERTEXT);
      Path headerFile = tmp.resolve(CacheLayout.HEADER);
      try (OutputStream out = files.create(headerFile)) {
        out.write(header.toByteArray());
      }
      Files.move(layout.partialCiphertext(sha), ciphertext, StandardCopyOption.ATOMIC_MOVE);
      AtomicFiles.fsync(headerFile);
      AtomicFiles.fsync(ciphertext);
      AtomicFiles.fsyncDirectory(tmp);
      AtomicFiles.fsyncDirectory(layout.partialDir());
      Files.move(tmp, layout.entryDir(sha), StandardCopyOption.ATOMIC_MOVE);
      AtomicFiles.fsyncDirectory(layout.cacheDir());
    } catch (IOException | RuntimeException e) {
      FileTrees.deleteQuietly(tmp, e);
      throw e;
    }
    Files.deleteIfExists(layout.partialHeader(sha));
  }

  private void discardPartial(String sha) throws IOException {
    Files.deleteIfExists(layout.partialCiphertext(sha));
    Files.deleteIfExists(layout.partialHeader(sha));
  }

  private static CacheResult rejected(Verification verdict) {
    return CacheResult.rejected(verdict.reason(), verdict.message());
  }
}
