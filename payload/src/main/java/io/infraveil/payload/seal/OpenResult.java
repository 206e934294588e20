package io.infraveil.payload.seal;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.Sha256Hex;

/** What opening produced: the plaintext size and its SHA-256, both computed while decrypting. */
public record OpenResult(long plaintextSize, String sha256Hex) {

  public OpenResult {
    if (plaintextSize < 0) {
      throw new IllegalArgumentException("plaintextSize must be >= 0, got " + plaintextSize);
    }
    Sha256Hex.requireValid(sha256Hex, "sha256Hex");
  }

  /**
   * Step 2 of the trust chain: the decrypted bytes must be the ones the control plane named
   * in the desired state. Throws HASH_MISMATCH otherwise.
   */
  public OpenResult requireSha256(String expectedSha256Hex) throws PayloadRejectedException {
    Sha256Hex.requireValid(expectedSha256Hex, "expectedSha256Hex");
    if (!sha256Hex.equals(expectedSha256Hex)) {
      throw new PayloadRejectedException(RejectionReason.HASH_MISMATCH,
          "decrypted payload has sha256 " + sha256Hex + " but the desired state names "
              + expectedSha256Hex);
    }
    return this;
  }
}
