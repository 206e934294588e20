package io.infraveil.payload.seal;

import io.infraveil.payload.Sha256Hex;

/** What sealing produced: sizes and the SHA-256 of the plaintext, for the payload header. */
public record SealResult(long plaintextSize, long ciphertextSize, String sha256Hex) {

  public SealResult {
    if (plaintextSize < 0 || ciphertextSize < plaintextSize) {
      throw new IllegalArgumentException("impossible sizes: plaintext " + plaintextSize
          + ", ciphertext " + ciphertextSize);
    }
    Sha256Hex.requireValid(sha256Hex, "sha256Hex");
  }
}
