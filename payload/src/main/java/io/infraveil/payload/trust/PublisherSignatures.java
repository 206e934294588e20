package io.infraveil.payload.trust;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.Sha256Hex;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Ed25519 publisher signatures over (deployment, sequence, sha256). The publisher's private
 * key stays outside the control plane and hosts pin the public keys, so a compromised control
 * plane cannot make hosts run unsigned code; the sequence keeps an old signed version from
 * being replayed as new. The signed bytes are {@link PayloadStatement} with context
 * {@value #CONTEXT}.
 */
public final class PublisherSignatures {

  public static final String CONTEXT = "infraveil/v1 payload-signature";

  private PublisherSignatures() {}

  /** Signs the claim; pair the result with {@link #keyId} of the matching public key. */
  public static byte[] sign(PrivateKey key, String deployment, long sequence, String sha256Hex) {
    Objects.requireNonNull(key, "key");
    byte[] statement = PayloadStatement.encode(CONTEXT, deployment, sequence, sha256Hex);
    try {
      Signature signer = Signature.getInstance("Ed25519");
      signer.initSign(key);
      signer.update(statement);
      return signer.sign();
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException(
          "publisher key must be an Ed25519 private key, got " + key.getAlgorithm(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed", e);
    }
  }

  /** Hex of the first 16 bytes of SHA-256 over the key's X.509 encoding: short and stable. */
  public static String keyId(PublicKey key) {
    Objects.requireNonNull(key, "key");
    byte[] digest = Sha256Hex.newDigest().digest(key.getEncoded());
    return Sha256Hex.format(Arrays.copyOf(digest, 16));
  }

  /**
   * Accepts when at least one signature from a pinned key verifies, and returns that key's id.
   * Signatures from keys that are not pinned are ignored: anyone can make those.
   *
   * @throws PayloadRejectedException SIGNATURE_MISSING when no signature comes from a pinned
   *     key, SIGNATURE_INVALID when signatures from pinned keys exist but none verifies
   */
  public static String verify(Collection<PublicKey> pinned, String deployment, long sequence,
      String sha256Hex, List<PublisherSignature> signatures) throws PayloadRejectedException {
    Objects.requireNonNull(pinned, "pinned");
    Objects.requireNonNull(signatures, "signatures");
    byte[] statement = PayloadStatement.encode(CONTEXT, deployment, sequence, sha256Hex);
    Map<String, PublicKey> byId = new LinkedHashMap<>();
    for (PublicKey key : pinned) {
      byId.put(keyId(key), key);
    }
    List<String> tried = new ArrayList<>();
    for (PublisherSignature signature : signatures) {
      PublicKey key = byId.get(signature.keyId());
      if (key == null) {
        continue;
      }
      tried.add(signature.keyId());
      if (verifies(key, statement, signature.signature())) {
        return signature.keyId();
      }
    }
    String claim = "deployment '" + deployment + "' sequence " + sequence + " sha256 "
        + sha256Hex;
    if (tried.isEmpty()) {
      List<String> offered = signatures.stream().map(PublisherSignature::keyId).toList();
      throw new PayloadRejectedException(RejectionReason.SIGNATURE_MISSING,
          "no signature from a pinned publisher key for " + claim + " (signed by " + offered
              + ", pinned " + byId.keySet() + "); sign it with a pinned key or pin the"
              + " publisher's key on this host");
    }
    throw new PayloadRejectedException(RejectionReason.SIGNATURE_INVALID,
        "signatures from pinned keys " + tried + " do not verify for " + claim
            + ": altered, or signed for another deployment, sequence or hash");
  }

  private static boolean verifies(PublicKey key, byte[] statement, byte[] signature) {
    try {
      Signature verifier = Signature.getInstance("Ed25519");
      verifier.initVerify(key);
      verifier.update(statement);
      return verifier.verify(signature);
    } catch (SignatureException | InvalidKeyException e) {
      // Malformed signature bytes or a pinned key of another type: not a valid signature.
      return false;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 verification is unavailable", e);
    }
  }
}
