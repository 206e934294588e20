package io.infraveil.payload.trust;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One publisher signature as it travels with a payload: the signing key's id (see
 * {@link PublisherSignatures#keyId}) and the Ed25519 signature bytes. The id only selects
 * which pinned key to try; trust comes from the signature verifying.
 */
public record PublisherSignature(String keyId, byte[] signature) {

  public PublisherSignature {
    Objects.requireNonNull(keyId, "keyId");
    Objects.requireNonNull(signature, "signature");
    if (!keyId.matches("[0-9a-f]{32}")) {
      throw new IllegalArgumentException(
          "keyId must be 32 lowercase hex characters, got '" + keyId + "'");
    }
    signature = signature.clone();
  }

  @Override
  public byte[] signature() {
    return signature.clone();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof PublisherSignature that
        && keyId.equals(that.keyId) && Arrays.equals(signature, that.signature);
  }

  @Override
  public int hashCode() {
    return 31 * keyId.hashCode() + Arrays.hashCode(signature);
  }

  @Override
  public String toString() {
    return "PublisherSignature[keyId=" + keyId + ", signature="
        + HexFormat.of().formatHex(signature) + "]";
  }
}
