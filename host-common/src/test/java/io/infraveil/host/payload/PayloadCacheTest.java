package io.infraveil.host.payload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.infraveil.payload.RejectionReason;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.FetchRequest;
import io.infraveil.proto.v1.PayloadRef;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Component tests: a real mTLS gRPC server on loopback serving genuinely sealed payloads. */
class PayloadCacheTest {

  private static final String DEPLOYMENT = "shop";

  @TempDir Path work;
  private Path data;
  private CacheLayout layout;
  private FakePayloadService service;
  private MutualTlsServer server;
  private TestPayloads.Sealed app;

  @BeforeEach
  void start() throws Exception {
    data = Files.createDirectories(work.resolve("data"));
    layout = new CacheLayout(data);
    service = new FakePayloadService();
    server = new MutualTlsServer(service);
    app = TestPayloads.app(work, "shop", 100_000, 5);
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private PayloadCache cache(CacheFiles files) {
    PayloadFetcher fetcher = new PayloadFetcher(server.channel, layout, files,
        new PayloadFetcher.Settings(Duration.ofSeconds(30), 4096));
    return new PayloadCache(layout, fetcher,
        new PayloadVerifier(TestPayloads.KEYS, PublisherTrust.none()), PublisherTrust.none(),
        files);
  }

  private PayloadCache cache() {
    return cache(CacheFiles.DEFAULT);
  }

  private void serveGenuine() {
    service.serve(DEPLOYMENT, app.sha(), app.header(DEPLOYMENT), app.ciphertext());
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private void assertNothingCachedOrKept() throws IOException {
    assertFalse(Files.exists(layout.entryDir(app.sha())), "no cache entry");
    assertFalse(Files.exists(layout.partialCiphertext(app.sha())), "no partial ciphertext");
    assertFalse(Files.exists(layout.partialHeader(app.sha())), "no partial header");
    assertFalse(Files.exists(layout.assemblyDir(app.sha())), "no assembly dir");
  }

  private void assertRejected(CacheResult result, RejectionReason reason) {
    assertEquals(CacheResult.Status.REJECTED, result.status(), result.message());
    assertEquals(reason, result.reason(), result.message());
    assertNull(result.entry());
    assertTrue(result.message().contains(reason.name()), result.message());
  }

  @Test
  void fetchesVerifiesAndCachesExactlyCiphertextAndHeader() throws Exception {
    serveGenuine();
    CacheResult result = cache().ensureCached(DEPLOYMENT, app.ref());

    assertEquals(CacheResult.Status.CACHED, result.status(), result.message());
    assertEquals(layout.entryDir(app.sha()), result.entry());
    assertEquals(List.of("header.pb", "payload.enc"), names(result.entry()));
    assertArrayEquals(app.ciphertext(), Files.readAllBytes(result.entry().resolve("payload.enc")));
    assertEquals(app.header(DEPLOYMENT).getDeployment(),
        FetchHeader.parseFrom(Files.readAllBytes(result.entry().resolve("header.pb")))
            .getDeployment());
    // Nothing left over in .partial but the lock file.
    assertEquals(List.of(app.sha() + ".lock"), names(layout.partialDir()));
    assertEquals(1, service.requests.size());
  }

  @Test
  void secondCallUsesTheCacheWithoutDownloading() throws Exception {
    serveGenuine();
    PayloadCache cache = cache();
    cache.ensureCached(DEPLOYMENT, app.ref());
    CacheResult again = cache.ensureCached(DEPLOYMENT, app.ref());
    assertEquals(CacheResult.Status.CACHED, again.status(), again.message());
    assertEquals(1, service.requests.size(), "no second fetch");
  }

  @Test
  void cutDownloadLeavesNoEntryAndResumesFromThePartialOffset() throws Exception {
    serveGenuine();
    service.cutNextAfter.set(app.ciphertext().length / 2);
    PayloadCache cache = cache();

    CacheResult cut = cache.ensureCached(DEPLOYMENT, app.ref());
    assertEquals(CacheResult.Status.UNAVAILABLE, cut.status());
    assertTrue(cut.message().contains("UNAVAILABLE"), cut.message());
    assertFalse(Files.exists(layout.entryDir(app.sha())));
    long partial = Files.size(layout.partialCiphertext(app.sha()));
    assertTrue(partial > 0 && partial < app.ciphertext().length, "partial " + partial);

    CacheResult resumed = cache.ensureCached(DEPLOYMENT, app.ref());
    assertEquals(CacheResult.Status.CACHED, resumed.status(), resumed.message());
    assertEquals(2, service.requests.size());
    assertEquals(0, service.requests.get(0).getOffset());
    assertEquals(partial, service.requests.get(1).getOffset());
    assertArrayEquals(app.ciphertext(),
        Files.readAllBytes(layout.entryDir(app.sha()).resolve("payload.enc")));
  }

  @Test
  void flippedCiphertextByteIsRejectedAndNotKept() throws Exception {
    byte[] tampered = app.ciphertext().clone();
    tampered[tampered.length / 3] ^= 0x01;
    service.serve(DEPLOYMENT, app.sha(), app.header(DEPLOYMENT), tampered);

    assertRejected(cache().ensureCached(DEPLOYMENT, app.ref()), RejectionReason.DECRYPT_FAILED);
    assertNothingCachedOrKept();
  }

  @Test
  void plaintextWithAnotherHashIsRejected() throws Exception {
    // Genuinely sealed and MACed, but the bytes are not the ones the desired state names.
    TestPayloads.Sealed other = TestPayloads.app(work, "other", 100_000, 5);
    PayloadRef claimed = other.ref().toBuilder().setSha256(app.sha()).build();
    service.serve(DEPLOYMENT, app.sha(),
        other.headerFor(DEPLOYMENT, claimed, TestPayloads.KEYS), other.ciphertext());
    PayloadRef desired = claimed;

    CacheResult result = cache().ensureCached(DEPLOYMENT, desired);
    assertRejected(result, RejectionReason.HASH_MISMATCH);
    assertNothingCachedOrKept();
  }

  @Test
  void wrongMacIsRejectedBeforeAnyByteIsWritten() throws Exception {
    FetchHeader forged = app.header(DEPLOYMENT).toBuilder()
        .setHmac(ByteString.copyFrom(new byte[32])).build();
    service.serve(DEPLOYMENT, app.sha(), forged, app.ciphertext());

    assertRejected(cache().ensureCached(DEPLOYMENT, app.ref()), RejectionReason.MAC_MISMATCH);
    assertNothingCachedOrKept();
  }

  @Test
  void headerForAnotherDeploymentIsRejected() throws Exception {
    // A valid header and MAC, but for deployment "admin": must not be run as "shop".
    service.serve(DEPLOYMENT, app.sha(), app.header("admin"), app.ciphertext());

    CacheResult result = cache().ensureCached(DEPLOYMENT, app.ref());
    assertRejected(result, RejectionReason.MAC_MISMATCH);
    assertTrue(result.message().contains("admin"), result.message());
    assertNothingCachedOrKept();
  }

  @Test
  void tamperedResumeIsFetchedAgainFromZeroThenRejectedWhenStillBad() throws Exception {
    byte[] tampered = app.ciphertext().clone();
    tampered[tampered.length - 100] ^= 0x40;
    service.serve(DEPLOYMENT, app.sha(), app.header(DEPLOYMENT), tampered);
    service.cutNextAfter.set(FakePayloadService.CHUNK * 2);
    PayloadCache cache = cache();
    assertEquals(CacheResult.Status.UNAVAILABLE, cache.ensureCached(DEPLOYMENT, app.ref()).status());

    assertRejected(cache.ensureCached(DEPLOYMENT, app.ref()), RejectionReason.DECRYPT_FAILED);
    List<Long> offsets = service.requests.stream().map(FetchRequest::getOffset).toList();
    assertEquals(List.of(0L, (long) FakePayloadService.CHUNK * 2, 0L), offsets);
    assertNothingCachedOrKept();
  }

  @Test
  void leftoversOfAPowerCutAreNeitherTrustedNorFatal() throws Exception {
    serveGenuine();
    // A complete-looking assembly dir with wrong bytes, and a partial file with no header.
    Path tmp = Files.createDirectories(layout.assemblyDir(app.sha()));
    Files.write(tmp.resolve("payload.enc"), new byte[app.ciphertext().length]);
    Files.write(tmp.resolve("header.pb"), app.header(DEPLOYMENT).toByteArray());
    Files.write(layout.partialCiphertext(app.sha()), new byte[] {1, 2, 3, 4, 5});

    CacheResult result = cache().ensureCached(DEPLOYMENT, app.ref());
    assertEquals(CacheResult.Status.CACHED, result.status(), result.message());
    assertEquals(0, service.requests.get(0).getOffset(), "garbage partial is not resumed");
    assertArrayEquals(app.ciphertext(), Files.readAllBytes(result.entry().resolve("payload.enc")));
    assertFalse(Files.exists(tmp));
  }

  @Test
  void tornTailAfterAPowerCutIsRefetchedNotReported() throws Exception {
    serveGenuine();
    // A partial with a saved header whose tail was never flushed: zeros where data should be.
    byte[] torn = java.util.Arrays.copyOf(app.ciphertext(), 30_000);
    java.util.Arrays.fill(torn, 20_000, 30_000, (byte) 0);
    Files.createDirectories(layout.partialDir());
    Files.write(layout.partialCiphertext(app.sha()), torn);
    Files.write(layout.partialHeader(app.sha()), app.header(DEPLOYMENT).toByteArray());

    CacheResult result = cache().ensureCached(DEPLOYMENT, app.ref());
    assertEquals(CacheResult.Status.CACHED, result.status(), result.message());
    assertEquals(List.of(30_000L, 0L),
        service.requests.stream().map(FetchRequest::getOffset).toList());
  }

  @Test
  void fullDiskIsUnavailableLeavesNoEntryAndResumesOnceSpaceIsBack() throws Exception {
    serveGenuine();
    CacheResult full = cache(new FullDisk(40_000)).ensureCached(DEPLOYMENT, app.ref());

    assertEquals(CacheResult.Status.UNAVAILABLE, full.status());
    assertTrue(full.message().contains("No space left on device"), full.message());
    assertFalse(Files.exists(layout.entryDir(app.sha())));
    assertFalse(Files.exists(layout.assemblyDir(app.sha())));

    CacheResult later = cache().ensureCached(DEPLOYMENT, app.ref());
    assertEquals(CacheResult.Status.CACHED, later.status(), later.message());
    assertArrayEquals(app.ciphertext(), Files.readAllBytes(later.entry().resolve("payload.enc")));
  }

  @Test
  void fullDiskWhileAssemblingCleansTheAssemblyDir() throws Exception {
    serveGenuine();
    // Room for the whole download but not for the header written into the assembly dir.
    CacheResult full = cache(new FullDisk(app.ciphertext().length + 10))
        .ensureCached(DEPLOYMENT, app.ref());

    assertEquals(CacheResult.Status.UNAVAILABLE, full.status(), full.message());
    assertTrue(full.message().contains("No space left on device"), full.message());
    assertFalse(Files.exists(layout.entryDir(app.sha())));
    assertFalse(Files.exists(layout.assemblyDir(app.sha())));
  }

  @Test
  void cachedBytesServeAnotherDeploymentWithItsOwnHeader() throws Exception {
    serveGenuine();
    service.serve("shop-eu", app.sha(), app.header("shop-eu"), app.ciphertext());
    PayloadCache cache = cache();
    cache.ensureCached(DEPLOYMENT, app.ref());

    CacheResult eu = cache.ensureCached("shop-eu", app.ref());
    assertEquals(CacheResult.Status.CACHED, eu.status(), eu.message());
    FetchRequest headerOnly = service.requests.get(1);
    assertEquals("shop-eu", headerOnly.getDeployment());
    assertEquals(app.ciphertext().length, headerOnly.getOffset(), "header only");
    assertEquals(List.of("header-shop-eu-5.pb", "header.pb", "payload.enc"),
        names(eu.entry()));
  }

  @Test
  void cachedBytesAreNotHandedToADeploymentWhoseHeaderFails() throws Exception {
    serveGenuine();
    FetchHeader forged = app.header("shop-eu").toBuilder()
        .setHmac(ByteString.copyFrom(new byte[32])).build();
    service.serve("shop-eu", app.sha(), forged, app.ciphertext());
    PayloadCache cache = cache();
    cache.ensureCached(DEPLOYMENT, app.ref());

    assertRejected(cache.ensureCached("shop-eu", app.ref()), RejectionReason.MAC_MISMATCH);
    assertEquals(List.of("header.pb", "payload.enc"), names(layout.entryDir(app.sha())));
  }

  /** Replaces the cached ciphertext of {@code app} with another version's, as an attacker or a bad disk would. */
  private void replaceCachedBytesWithAnotherVersion() throws IOException {
    TestPayloads.Sealed other = TestPayloads.app(Files.createDirectories(work.resolve("other")),
        "other", 90_000, 6);
    Files.write(layout.entryDir(app.sha()).resolve(CacheLayout.CIPHERTEXT), other.ciphertext());
  }

  // A second deployment finds the entry's bytes replaced: the entry is evicted, fetched again,
  // and the result says so (to be reported once) instead of refusing the version for ever.
  @Test
  void cachedBytesReplacedAtRestAreEvictedAndFetchedAgain() throws Exception {
    serveGenuine();
    service.serve("shop-eu", app.sha(), app.header("shop-eu"), app.ciphertext());
    PayloadCache cache = cache();
    cache.ensureCached(DEPLOYMENT, app.ref());
    replaceCachedBytesWithAnotherVersion();

    CacheResult eu = cache.ensureCached("shop-eu", app.ref());

    assertEquals(CacheResult.Status.CACHED, eu.status(), eu.message());
    assertTrue(eu.evicted().contains("cache entry " + app.sha() + " failed verification and was"
        + " evicted"), eu.evicted());
    assertArrayEquals(app.ciphertext(), Files.readAllBytes(eu.entry().resolve("payload.enc")));
    assertEquals(List.of("header.pb", "payload.enc"), names(eu.entry()),
        "a fresh entry: the old headers went with the bad bytes");
    assertTrue(eu.evicted().contains("SIZE_MISMATCH"), eu.evicted());
    assertEquals(2, service.requests.size(), "the first fetch, then the fetch again");
    assertEquals("shop-eu", service.requests.get(1).getDeployment());
    assertEquals(0, service.requests.get(1).getOffset(), "fetched again from byte 0");

    CacheResult again = cache.ensureCached("shop-eu", app.ref());
    assertEquals(CacheResult.Status.CACHED, again.status(), again.message());
    assertNull(again.evicted(), "reported once: the next call finds a good entry");
  }

  // Extraction found the bytes altered: refetch evicts and fetches again from byte 0.
  @Test
  void refetchEvictsAndFetchesAgain() throws Exception {
    serveGenuine();
    PayloadCache cache = cache();
    cache.ensureCached(DEPLOYMENT, app.ref());
    replaceCachedBytesWithAnotherVersion();

    CacheResult result = cache.refetch(DEPLOYMENT, app.ref(), "extraction failed: DECRYPT_FAILED");

    assertEquals(CacheResult.Status.CACHED, result.status(), result.message());
    assertEquals("extraction failed: DECRYPT_FAILED", result.evicted());
    assertArrayEquals(app.ciphertext(), Files.readAllBytes(result.entry().resolve("payload.enc")));
    assertEquals(2, service.requests.size());
  }

  // When the fresh copy is bad too, it is a rejection like any other, and nothing is kept.
  @Test
  void refetchOfABadPayloadIsRejectedAndKeepsNothing() throws Exception {
    serveGenuine();
    PayloadCache cache = cache();
    cache.ensureCached(DEPLOYMENT, app.ref());
    byte[] tampered = app.ciphertext().clone();
    tampered[tampered.length / 3] ^= 0x01;
    service.serve(DEPLOYMENT, app.sha(), app.header(DEPLOYMENT), tampered);

    CacheResult result = cache.refetch(DEPLOYMENT, app.ref(), "extraction failed");

    assertRejected(result, RejectionReason.DECRYPT_FAILED);
    assertEquals("extraction failed", result.evicted());
    assertNothingCachedOrKept();
  }

  /** Fails every write once {@code limit} bytes were written through it, like a full disk. */
  static final class FullDisk implements CacheFiles {
    private final AtomicLong left;

    FullDisk(long limit) {
      this.left = new AtomicLong(limit);
    }

    @Override
    public OutputStream openForAppend(Path file) throws IOException {
      return limited(CacheFiles.DEFAULT.openForAppend(file));
    }

    @Override
    public OutputStream create(Path file) throws IOException {
      return limited(CacheFiles.DEFAULT.create(file));
    }

    private OutputStream limited(OutputStream out) {
      return new FilterOutputStream(out) {
        @Override
        public void write(int b) throws IOException {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          if (left.addAndGet(-len) < 0) {
            throw new IOException("No space left on device");
          }
          out.write(b, off, len);
        }
      };
    }
  }
}
