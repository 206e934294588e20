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
import java.nio.file.LinkOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Turns a verified cache entry into {@code releasesDir/<sha256>/}, the only place plaintext
 * exists. Decrypts again (MAC, key, every record, SHA-256 re-checked: the cache is trusted
 * only as far as it verifies now) into {@code releasesDir/<sha256>.tmp-*}, extracts there,
 * writes {@value #COMPLETE_MARKER} last, fsyncs and renames into place. The marker names the
 * payload and lists the SHA-256 of every file the payload shipped; a release dir whose marker
 * matches it (files added later, such as a preflight's installs, are allowed) is reused, one
 * without the marker or that no longer matches it ({@link #mismatch}) is removed and rebuilt. Publisher signatures and sequences
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
      if (Files.isRegularFile(target.resolve(COMPLETE_MARKER))
          && mismatch(target, sha).isEmpty()) {
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
        String manifest = manifest(release);
        try (OutputStream marker = files.create(release.resolve(COMPLETE_MARKER))) {
          marker.write((sha + "\n" + manifest).getBytes(StandardCharsets.UTF_8));
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

  /**
   * Why the complete release dir {@code release} no longer matches payload {@code sha}: its
   * marker names another payload, or a file the payload shipped is missing or changed. Empty
   * when it matches (a marker without a file list, from before lists were kept, matches by
   * name).
   */
  public static Optional<String> mismatch(Path release, String sha) throws IOException {
    List<String> lines = Files.readAllLines(release.resolve(COMPLETE_MARKER),
        StandardCharsets.UTF_8);
    if (lines.isEmpty() || !lines.get(0).equals(sha)) {
      return Optional.of("its marker names payload " + (lines.isEmpty() ? "nothing" : lines.get(0)));
    }
    for (String line : lines.subList(1, lines.size())) {
      int space = line.indexOf("  ");
      if (space != 64) {
        return Optional.of("its marker has a malformed line \"" + line + "\"");
      }
      String name = line.substring(space + 2);
      Path file = release.resolve(name).normalize();
      if (!file.startsWith(release) || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        return Optional.of("shipped file " + name + " is missing");
      }
      if (!sha256Of(file).equals(line.substring(0, 64))) {
        return Optional.of("shipped file " + name + " was changed");
      }
    }
    return Optional.empty();
  }

  /** One {@code <sha256>  <relative path>} line per regular file, sorted by path. */
  private static String manifest(Path release) throws IOException {
    StringBuilder out = new StringBuilder();
    try (Stream<Path> walk = Files.walk(release)) {
      for (Path file : walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
          .sorted().toList()) {
        String name = release.relativize(file).toString();
        if (name.indexOf('\n') >= 0) {
          throw new IOException("file name with a line break in release: " + name);
        }
        out.append(sha256Of(file)).append("  ").append(name).append('\n');
      }
    }
    return out.toString();
  }

  private static String sha256Of(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[64 * 1024];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
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
