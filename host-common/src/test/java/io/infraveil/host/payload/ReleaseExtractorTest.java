package io.infraveil.host.payload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.fs.AtomicFiles;
import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Extraction from a cache entry laid out as PayloadCache leaves it. */
class ReleaseExtractorTest {

  @TempDir Path work;
  private TestPayloads.Sealed app;
  private Path entry;
  private Path releases;

  @BeforeEach
  void cacheEntry() throws IOException {
    app = TestPayloads.app(work, "shop", 50_000, 3);
    CacheLayout layout = new CacheLayout(work.resolve("data"));
    entry = Files.createDirectories(layout.entryDir(app.sha()));
    Files.write(entry.resolve("payload.enc"), app.ciphertext());
    Files.write(entry.resolve("header.pb"), app.header("shop").toByteArray());
    releases = work.resolve("releases");
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void extractsTheAppsFilesWithACompletionMarker() throws Exception {
    Path release = new ReleaseExtractor().extract(entry, "shop", app.ref(), TestPayloads.KEYS,
        releases);

    assertEquals(releases.resolve(app.sha()), release);
    assertEquals(List.of(".infraveil-release-complete", "config.yaml", "lib", "run.sh"),
        names(release));
    assertEquals(50_000, Files.size(release.resolve("lib/blob.bin")));
    assertTrue(Files.isExecutable(release.resolve("run.sh")));
    assertEquals(List.of(app.sha()), names(releases).stream()
        .filter(n -> !n.startsWith(".")).toList(), "no temp dir, no plaintext archive left");
  }

  @Test
  void reusesACompleteReleaseAndRebuildsAnIncompleteOne() throws Exception {
    ReleaseExtractor extractor = new ReleaseExtractor();
    Path release = extractor.extract(entry, "shop", app.ref(), TestPayloads.KEYS, releases);
    Files.writeString(release.resolve("touched"), "kept");
    extractor.extract(entry, "shop", app.ref(), TestPayloads.KEYS, releases);
    assertTrue(Files.exists(release.resolve("touched")), "complete release reused");

    Files.delete(release.resolve(ReleaseExtractor.COMPLETE_MARKER));
    Files.createDirectories(releases.resolve(app.sha() + ".tmp-crashed"));
    extractor.extract(entry, "shop", app.ref(), TestPayloads.KEYS, releases);
    assertFalse(Files.exists(release.resolve("touched")), "incomplete release rebuilt");
    assertFalse(Files.exists(releases.resolve(app.sha() + ".tmp-crashed")));
  }

  // A shipped file replaced (by another version's, say) no longer matches the marker's list:
  // the release is extracted again from the verified cache; added files do not count.
  @Test
  void releaseWhoseShippedFilesChangedIsExtractedAgain() throws Exception {
    ReleaseExtractor extractor = new ReleaseExtractor();
    Path release = extractor.extract(entry, "shop", app.ref(), TestPayloads.KEYS, releases);
    byte[] genuine = Files.readAllBytes(release.resolve("run.sh"));
    Files.writeString(release.resolve("node_modules.txt"), "installed by a preflight");
    assertEquals(Optional.empty(), ReleaseExtractor.mismatch(release, app.sha()),
        "files added after extraction are allowed");

    Files.writeString(release.resolve("run.sh"), "#!/bin/sh\necho another version\n");
    assertEquals(Optional.of("shipped file run.sh was changed"),
        ReleaseExtractor.mismatch(release, app.sha()));
    extractor.extract(entry, "shop", app.ref(), TestPayloads.KEYS, releases);
    assertArrayEquals(genuine, Files.readAllBytes(release.resolve("run.sh")));
    assertEquals(Optional.empty(), ReleaseExtractor.mismatch(release, app.sha()));

    Files.delete(release.resolve("lib/blob.bin"));
    assertEquals(Optional.of("shipped file lib/blob.bin is missing"),
        ReleaseExtractor.mismatch(release, app.sha()));
    assertEquals(Optional.of("its marker names payload " + app.sha()),
        ReleaseExtractor.mismatch(release, "0".repeat(64)));
  }

  @Test
  void cacheAlteredAtRestIsRejectedAndLeavesNoPlaintext() throws Exception {
    byte[] altered = app.ciphertext().clone();
    altered[altered.length - 1] ^= 1;
    AtomicFiles.write(entry.resolve("payload.enc"), altered);

    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> new ReleaseExtractor().extract(entry, "shop", app.ref(), TestPayloads.KEYS,
            releases));
    assertEquals(RejectionReason.DECRYPT_FAILED, e.reason());
    assertEquals(List.of(), names(releases).stream().filter(n -> !n.startsWith(".")).toList());
  }

  @Test
  void refusesADeploymentTheEntryHoldsNoHeaderFor() {
    IOException e = assertThrows(IOException.class, () -> new ReleaseExtractor()
        .extract(entry, "admin", app.ref(), TestPayloads.KEYS, releases));
    assertTrue(e.getMessage().contains("no header for deployment 'admin'"), e.getMessage());
    assertFalse(Files.exists(releases.resolve(app.sha())));
  }

  /**
   * The disk fills while the release is being written: an I/O error (retry later), not a
   * rejection; no release dir and no temp dir are left, the cache entry is untouched, a release
   * already extracted for another version is untouched, and the next try with space succeeds.
   */
  @Test
  void fullDiskWhileExtractingLeavesNoReleaseAndKeepsTheCacheEntry() throws Exception {
    Path other = Files.createDirectories(releases.resolve("f".repeat(64)));
    Files.writeString(other.resolve(ReleaseExtractor.COMPLETE_MARKER), "running\n");
    byte[] cached = Files.readAllBytes(entry.resolve("payload.enc"));

    IOException e = assertThrows(IOException.class, () -> new ReleaseExtractor(
        io.infraveil.payload.archive.ExtractionLimits.DEFAULT, new PayloadCacheTest.FullDisk(10_000))
        .extract(entry, "shop", app.ref(), TestPayloads.KEYS, releases));

    assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
    assertEquals(List.of("f".repeat(64)), names(releases).stream()
        .filter(n -> !n.startsWith(".")).toList(), "no partial release, no temp dir");
    assertTrue(Files.exists(other.resolve(ReleaseExtractor.COMPLETE_MARKER)));
    assertTrue(java.util.Arrays.equals(cached, Files.readAllBytes(entry.resolve("payload.enc"))),
        "the verified cache entry stays");
    Path release = new ReleaseExtractor().extract(entry, "shop", app.ref(), TestPayloads.KEYS,
        releases);
    assertTrue(Files.isRegularFile(release.resolve(ReleaseExtractor.COMPLETE_MARKER)));
  }
}
