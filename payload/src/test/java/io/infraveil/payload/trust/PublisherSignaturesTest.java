package io.infraveil.payload.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;

class PublisherSignaturesTest {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final KeyPair PINNED = PublisherKeys.newKeyPair(RANDOM);
  private static final KeyPair OTHER_PINNED = PublisherKeys.newKeyPair(RANDOM);
  private static final KeyPair UNPINNED = PublisherKeys.newKeyPair(RANDOM);
  private static final List<PublicKey> PINS = List.of(OTHER_PINNED.getPublic(), PINNED.getPublic());
  private static final String SHA = "c0ffee".repeat(10) + "abcd";

  @Test
  void verifyAcceptsSignatureFromPinnedKeyAndNamesIt() throws Exception {
    String keyId = PublisherSignatures.verify(PINS, "web", 3, SHA,
        List.of(signed(UNPINNED, "web", 3, SHA), signed(PINNED, "web", 3, SHA)));

    assertEquals(PublisherSignatures.keyId(PINNED.getPublic()), keyId);
  }

  @Test
  void verifyRefusesSignatureFromUnpinnedKey() {
    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> PublisherSignatures.verify(PINS, "web", 3, SHA,
            List.of(signed(UNPINNED, "web", 3, SHA))));

    assertEquals(RejectionReason.SIGNATURE_MISSING, e.reason());
    assertTrue(e.getMessage().contains("no signature from a pinned publisher key"), e.getMessage());
    assertTrue(e.getMessage().contains(PublisherSignatures.keyId(UNPINNED.getPublic())));
  }

  // An attacker holding the control plane cannot relabel an unpinned signature as pinned.
  @Test
  void verifyRefusesUnpinnedSignatureClaimingPinnedKeyId() {
    byte[] forged = PublisherSignatures.sign(UNPINNED.getPrivate(), "web", 3, SHA);
    PublisherSignature relabelled =
        new PublisherSignature(PublisherSignatures.keyId(PINNED.getPublic()), forged);

    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> PublisherSignatures.verify(PINS, "web", 3, SHA, List.of(relabelled)));

    assertEquals(RejectionReason.SIGNATURE_INVALID, e.reason());
    assertTrue(e.getMessage().contains("do not verify"), e.getMessage());
  }

  @Test
  void verifyRefusesNoSignatures() {
    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> PublisherSignatures.verify(PINS, "web", 3, SHA, List.of()));

    assertEquals(RejectionReason.SIGNATURE_MISSING, e.reason());
  }

  // The sequence is signed, so an old signed version cannot be replayed as a newer one.
  @Test
  void verifyRefusesSignatureForOtherSequence() {
    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> PublisherSignatures.verify(PINS, "web", 4, SHA,
            List.of(signed(PINNED, "web", 3, SHA))));

    assertEquals(RejectionReason.SIGNATURE_INVALID, e.reason());
  }

  @Test
  void verifyRefusesSignatureForOtherDeploymentOrHash() {
    List<PublisherSignature> signature = List.of(signed(PINNED, "web", 3, SHA));

    assertEquals(RejectionReason.SIGNATURE_INVALID, assertThrows(PayloadRejectedException.class,
        () -> PublisherSignatures.verify(PINS, "api", 3, SHA, signature)).reason());
    assertEquals(RejectionReason.SIGNATURE_INVALID, assertThrows(PayloadRejectedException.class,
        () -> PublisherSignatures.verify(PINS, "web", 3, "0".repeat(64), signature)).reason());
  }

  @Test
  void verifyRefusesMalformedSignatureBytes() {
    PublisherSignature garbage =
        new PublisherSignature(PublisherSignatures.keyId(PINNED.getPublic()), new byte[3]);

    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> PublisherSignatures.verify(PINS, "web", 3, SHA, List.of(garbage)));

    assertEquals(RejectionReason.SIGNATURE_INVALID, e.reason());
  }

  @Test
  void keyIdIs32HexCharacters() {
    String id = PublisherSignatures.keyId(PINNED.getPublic());

    assertTrue(id.matches("[0-9a-f]{32}"), id);
    assertEquals(id, PublisherSignatures.keyId(
        PublisherKeys.fromPem(PublisherKeys.toPem(PINNED.getPublic()))));
  }

  private static PublisherSignature signed(KeyPair pair, String deployment, long sequence,
      String sha) {
    return new PublisherSignature(PublisherSignatures.keyId(pair.getPublic()),
        PublisherSignatures.sign(pair.getPrivate(), deployment, sequence, sha));
  }
}
