package io.infraveil.host.payload;

import io.infraveil.host.fs.AtomicFiles;
import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.Sha256Hex;
import io.infraveil.payload.archive.ExtractionLimits;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.PayloadRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;

/**
 * Turns a verified cache entry into {@code releasesDir/<sha256>/}, the only place plaintext
 * exists. Decrypts again (MAC, key, every record, SHA-256 re-checked: the cache is trusted
 * only as far as it verifies now) into {@code releasesDir/<sha256>.tmp-*}, extracts there,
 * writes {@value #COMPLETE_MARKER} last, fsyncs and renames into place. A release dir with the
 * marker is reused; one without it is removed and rebuilt. Publisher signatures and sequences
 * are checked when caching, not here, so a rollback to a known-good older version extracts.
 */
public final class ReleaseExtractor {

  public static final String COMPLETE_MARKER = ".infraveil-release-complete";

  private final ExtractionLimits limits;
  private final CacheFiles files;

  public ReleaseExtractor(ExtractionLimits limits) {
    this(limits, CacheFiles.DEFAULT);
  }

  /** {@code files} opens the decrypted archive and the marker (tests fill the disk through it). */
  public ReleaseExtractor(ExtractionLimits limits, CacheFiles files) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.files = Objects.requireNonNull(files, "files");
  }

  public ReleaseExtractor() {
    this(ExtractionLimits.DEFAULT);
  }

  /**
   * Returns the release directory for {@code payload}.
   *
   * @throws PayloadRejectedException the cached bytes no longer verify (altered at rest): evict
   *     the entry and report it; nothing was left in {@code releasesDir}
   * @throws IOException disk trouble, no header for this deployment in the entry, or another
   *     process extracting the same payload into {@code releasesDir}
   */
  public Path extract(Path cacheEntry, String deployment, PayloadRef payload, HostKeys keys,
      Path releasesDir) throws IOException, PayloadRejectedException {
    Objects.requireNonNull(cacheEntry, "cacheEntry");
    Objects.requireNonNull(deployment, "deployment");
    Objects.requireNonNull(keys, "keys");
    String sha = Sha256Hex.requireValid(payload.getSha256(), "payload.sha256");
    Files.createDirectories(releasesDir);
    Path target = releasesDir.resolve(sha);
    try (ShaLocks.Held held =
        ShaLocks.acquire(releasesDir.resolve("." + sha + ".lock"), true).orElse(null)) {
      if (held == null) {
        throw new IOException("release " + sha + " is being extracted by another process"
            + " into " + releasesDir + "; try again");
      }
      if (Files.isRegularFile(target.resolve(COMPLETE_MARKER))) {
        return target;
      }
      FileTrees.deleteRecursively(target);
      deleteStaleTemps(releasesDir, sha);
      FetchHeader header = EntryHeaders.find(cacheEntry, deployment, payload.getSequence())
          .orElseThrow(() -> new IOException("cache entry " + cacheEntry + " has no header for"
              + " deployment '" + deployment + "' sequence " + payload.getSequence()
              + "; cache it for this deployment first"));
      Path tmp = Files.createTempDirectory(releasesDir, sha + ".tmp-");
      try {
        Path archive = tmp.resolve("payload.tar.gz");
        PayloadVerifier verifier = new PayloadVerifier(keys, PublisherTrust.none());
        try (InputStream in = Files.newInputStream(cacheEntry.resolve(CacheLayout.CIPHERTEXT));
            OutputStream out = files.create(archive)) {
          verifier.open(deployment, payload, header, in, out);
        }
        Path release = tmp.resolve("release");
        try (InputStream in = Files.newInputStream(archive)) {
          PayloadArchive.extract(in, release, limits);
        }
        Files.delete(archive);
        try (OutputStream marker = files.create(release.resolve(COMPLETE_MARKER))) {
          marker.write((sha + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        FileTrees.fsyncTree(release);
        Files.move(release, target, StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.fsyncDirectory(releasesDir);
        return target;
      } finally {
        FileTrees.deleteRecursively(tmp);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting to extract release " + sha, e);
    }
  }

  /** Temp dirs of this hash left by a crash hold plaintext nobody runs: remove them. */
  private static void deleteStaleTemps(Path releasesDir, String sha) throws IOException {
    try (DirectoryStream<Path> stale = Files.newDirectoryStream(releasesDir, sha + ".tmp-*")) {
      for (Path dir : stale) {
        FileTrees.deleteRecursively(dir);
      }
    }
  }
}
