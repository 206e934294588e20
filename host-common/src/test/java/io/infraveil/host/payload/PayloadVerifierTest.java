package io.infraveil.host.payload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignatures;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.PublisherSignature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trust chain over files, without a network. */
class PayloadVerifierTest {

  @TempDir Path work;
  private TestPayloads.Sealed app;
  private Path ciphertext;
  private final PayloadVerifier plain =
      new PayloadVerifier(TestPayloads.KEYS, PublisherTrust.none());

  @BeforeEach
  void seal() throws Exception {
    app = TestPayloads.app(work, "shop", 20_000, 4);
    ciphertext = Files.write(work.resolve("payload.enc"), app.ciphertext());
  }

  @Test
  void acceptsAGenuinePayload() throws Exception {
    assertTrue(plain.verify("shop", app.ref(), app.header("shop"), ciphertext).isOk());
  }

  @Test
  void rejectsAHeaderForAnotherSequence() throws Exception {
    PayloadRef older = app.ref().toBuilder().setSequence(3).build();
    Verification v = plain.verify("shop", app.ref(),
        app.headerFor("shop", older, TestPayloads.KEYS), ciphertext);
    assertEquals(RejectionReason.MAC_MISMATCH, v.reason());
    assertTrue(v.message().contains("sequence 3"), v.message());
  }

  @Test
  void rejectsAWrappedKeyForAnotherHost() throws Exception {
    FetchHeader header = app.header("shop").toBuilder()
        .setWrappedKey(ByteString.copyFrom(new byte[60])).build();
    assertEquals(RejectionReason.KEY_UNWRAP_FAILED,
        plain.verify("shop", app.ref(), header, ciphertext).reason());
  }

  @Test
  void rejectsATruncatedCiphertext() throws Exception {
    Files.write(ciphertext, java.util.Arrays.copyOf(app.ciphertext(), 5000));
    assertEquals(RejectionReason.TRUNCATED,
        plain.verify("shop", app.ref(), app.header("shop"), ciphertext).reason());
  }

  @Test
  void pinnedPublishersRequireASignatureAndRefuseOlderSequences() throws Exception {
    KeyPair publisher = PublisherKeys.newKeyPair(new SecureRandom());
    CacheLayout layout = new CacheLayout(work.resolve("data"));
    Files.createDirectories(layout.publishersFile().getParent());
    Files.writeString(layout.publishersFile(), PublisherKeys.toPem(publisher.getPublic()));
    PublisherTrust trust = PublisherTrust.fromHost(layout);
    PayloadVerifier signed = new PayloadVerifier(TestPayloads.KEYS, trust);

    Verification unsigned = signed.verify("shop", app.ref(), app.header("shop"), ciphertext);
    assertEquals(RejectionReason.SIGNATURE_MISSING, unsigned.reason());

    FetchHeader header = app.header("shop").toBuilder().addSignatures(PublisherSignature
        .newBuilder().setKeyId(PublisherSignatures.keyId(publisher.getPublic()))
        .setSignature(ByteString.copyFrom(PublisherSignatures.sign(publisher.getPrivate(),
            "shop", 4, app.sha())))).build();
    assertTrue(signed.verify("shop", app.ref(), header, ciphertext).isOk());

    trust.recordAccepted("shop", 9, app.sha());
    Verification stale = signed.verify("shop", app.ref(), header, ciphertext);
    assertEquals(RejectionReason.STALE_SEQUENCE, stale.reason());
    assertTrue(stale.message().contains("sequence 9"), stale.message());
  }
}
