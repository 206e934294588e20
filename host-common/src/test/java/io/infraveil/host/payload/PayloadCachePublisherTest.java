package io.infraveil.host.payload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignatures;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.PublisherSignature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache on a host with a pinned publisher key, fetching over real mTLS from a payload
 * service that plays a compromised control plane: it holds the host's MAC and wrap keys, so
 * only the publisher signature and the sequence stand between it and the host.
 */
class PayloadCachePublisherTest {

  private static final String DEPLOYMENT = "shop";

  @TempDir Path work;
  private CacheLayout layout;
  private FakePayloadService service;
  private MutualTlsServer server;
  private KeyPair publisher;
  private TestPayloads.Sealed v1;
  private TestPayloads.Sealed v2;

  @BeforeEach
  void start() throws Exception {
    layout = new CacheLayout(Files.createDirectories(work.resolve("data")));
    publisher = PublisherKeys.newKeyPair(new SecureRandom());
    Files.createDirectories(layout.publishersFile().getParent());
    Files.writeString(layout.publishersFile(), PublisherKeys.toPem(publisher.getPublic()));
    service = new FakePayloadService();
    server = new MutualTlsServer(service);
    v1 = TestPayloads.app(work, "shop-v1", 20_000, 1);
    v2 = TestPayloads.app(work, "shop-v2", 20_000, 2);
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  /** Built the way the launcher and the agent build it: pinned keys read from the host. */
  private PayloadCache cache() throws Exception {
    PublisherTrust trust = PublisherTrust.fromHost(layout);
    return new PayloadCache(layout, new PayloadFetcher(server.channel, layout, CacheFiles.DEFAULT,
        new PayloadFetcher.Settings(Duration.ofSeconds(30), 4096)),
        new PayloadVerifier(TestPayloads.KEYS, trust), trust, CacheFiles.DEFAULT);
  }

  private FetchHeader signed(TestPayloads.Sealed app, KeyPair key, long signedSequence) {
    return app.header(DEPLOYMENT).toBuilder().addSignatures(PublisherSignature.newBuilder()
        .setKeyId(PublisherSignatures.keyId(key.getPublic()))
        .setSignature(ByteString.copyFrom(PublisherSignatures.sign(key.getPrivate(), DEPLOYMENT,
            signedSequence, app.sha())))).build();
  }

  private void assertRefused(CacheResult result, RejectionReason reason, String text,
      TestPayloads.Sealed app) {
    assertEquals(CacheResult.Status.REJECTED, result.status(), result.message());
    assertEquals(reason, result.reason(), result.message());
    assertNull(result.entry());
    assertTrue(result.message().contains(text), result.message());
    assertFalse(Files.exists(layout.entryDir(app.sha())), "nothing cached");
    assertFalse(Files.exists(layout.partialCiphertext(app.sha())), "nothing kept to resume");
  }

  @Test
  void unsignedPayloadIsRefusedBeforeItsBytesAreKept() throws Exception {
    service.serve(DEPLOYMENT, v1.sha(), v1.header(DEPLOYMENT), v1.ciphertext());

    CacheResult result = cache().ensureCached(DEPLOYMENT, v1.ref());

    assertRefused(result, RejectionReason.SIGNATURE_MISSING, "no signature from a pinned publisher key", v1);
    assertFalse(Files.exists(layout.sequencesFile()), "no sequence accepted");
  }

  @Test
  void signatureFromAKeyThatIsNotPinnedIsRefused() throws Exception {
    KeyPair stranger = PublisherKeys.newKeyPair(new SecureRandom());
    service.serve(DEPLOYMENT, v1.sha(), signed(v1, stranger, 1), v1.ciphertext());

    CacheResult result = cache().ensureCached(DEPLOYMENT, v1.ref());

    assertRefused(result, RejectionReason.SIGNATURE_MISSING,
        "signed by [" + PublisherSignatures.keyId(stranger.getPublic()) + "]", v1);
  }

  @Test
  void pinnedKeySignatureForAnotherSequenceIsRefusedAsInvalid() throws Exception {
    // The publisher signed sequence 1; the control plane presents the same bytes as sequence 2.
    var asNewer = v1.ref().toBuilder().setSequence(2).build();
    FetchHeader header = v1.headerFor(DEPLOYMENT, asNewer, TestPayloads.KEYS).toBuilder()
        .addAllSignatures(signed(v1, publisher, 1).getSignaturesList()).build();
    service.serve(DEPLOYMENT, v1.sha(), header, v1.ciphertext());

    CacheResult result = cache().ensureCached(DEPLOYMENT, asNewer);

    assertRefused(result, RejectionReason.SIGNATURE_INVALID, "do not verify for deployment 'shop' "
        + "sequence 2", v1);
  }

  @Test
  void olderSignedVersionStillInTheCacheIsRefusedWithoutTouchingTheNetwork() throws Exception {
    service.serve(DEPLOYMENT, v1.sha(), signed(v1, publisher, 1), v1.ciphertext());
    service.serve(DEPLOYMENT, v2.sha(), signed(v2, publisher, 2), v2.ciphertext());
    PayloadCache cache = cache();
    assertEquals(CacheResult.Status.CACHED, cache.ensureCached(DEPLOYMENT, v1.ref()).status());
    assertEquals(CacheResult.Status.CACHED, cache.ensureCached(DEPLOYMENT, v2.ref()).status());
    int requests = service.requests.size();

    // A restarted launcher or agent (a new instance) is held to the same record.
    CacheResult replay = cache().ensureCached(DEPLOYMENT, v1.ref());

    assertEquals(CacheResult.Status.REJECTED, replay.status(), replay.message());
    assertEquals(RejectionReason.STALE_SEQUENCE, replay.reason());
    assertTrue(replay.message().contains("deployment 'shop' sequence 1 is older than sequence 2 "
        + "already accepted on this host"), replay.message());
    assertEquals(requests, service.requests.size(), "nothing fetched for a replay");
    assertTrue(Files.isDirectory(layout.entryDir(v1.sha())), "the old entry stays for local use");
    // The current version is still good, again and again.
    assertEquals(CacheResult.Status.CACHED, cache().ensureCached(DEPLOYMENT, v2.ref()).status());
  }

  /**
   * The launcher's crash fallback to v1, which this host accepted and ran before v2: accepted
   * from the cache with no fetch, while the control plane naming v1 is still a replay.
   */
  @Test
  void launcherFallbackToAVersionAcceptedBeforeIsCachedButTheSameFromTheControlPlaneIsNot()
      throws Exception {
    service.serve(DEPLOYMENT, v1.sha(), signed(v1, publisher, 1), v1.ciphertext());
    service.serve(DEPLOYMENT, v2.sha(), signed(v2, publisher, 2), v2.ciphertext());
    assertEquals(CacheResult.Status.CACHED, cache().ensureCached(DEPLOYMENT, v1.ref()).status());
    assertEquals(CacheResult.Status.CACHED, cache().ensureCached(DEPLOYMENT, v2.ref()).status());
    int requests = service.requests.size();

    CacheResult fallback = cache().ensureCached(DEPLOYMENT, v1.ref(),
        PayloadOrigin.LAUNCHER_FALLBACK);

    assertEquals(CacheResult.Status.CACHED, fallback.status(), fallback.message());
    assertEquals(layout.entryDir(v1.sha()), fallback.entry());
    assertEquals(requests, service.requests.size(), "served from the cache");
    CacheResult replay = cache().ensureCached(DEPLOYMENT, v1.ref(), PayloadOrigin.CONTROL_PLANE);
    assertEquals(CacheResult.Status.REJECTED, replay.status(), replay.message());
    assertEquals(RejectionReason.STALE_SEQUENCE, replay.reason());
    // The fallback did not lower the record: v2 is still the highest, and v1 still a replay.
    assertEquals(2L, io.infraveil.host.fs.JsonFiles.read(layout.sequencesFile(),
        PublisherTrust.Sequences.class).orElseThrow().highest().get(DEPLOYMENT));
  }
}
