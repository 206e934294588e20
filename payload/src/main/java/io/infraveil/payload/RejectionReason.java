package io.infraveil.payload;

/**
 * Why a payload was refused. The constants flow unchanged into security events, reports and
 * incidents, so they are part of the contract: add new ones, never rename.
 */
public enum RejectionReason {
  /** A record (or a wrapped key) failed its AES-GCM tag: tampered, reordered or wrong key. */
  DECRYPT_FAILED,
  /** The ciphertext ended before its final record, or in the middle of a record. */
  TRUNCATED,
  /** Bytes followed the final record. */
  TRAILING_DATA,
  /** The decrypted plaintext does not hash to the SHA-256 sent with the desired state. */
  HASH_MISMATCH,
  /** The plaintext or ciphertext size differs from the size sent with the desired state. */
  SIZE_MISMATCH,
  /** The per-host HMAC over (deployment, sequence, sha256) did not verify. */
  MAC_MISMATCH,
  /** A signature from a pinned publisher key was present but did not verify. */
  SIGNATURE_INVALID,
  /** No signature from any publisher key pinned on this host. */
  SIGNATURE_MISSING,
  /** The wrapped data key could not be unwrapped: wrong key, tampered, or bound to another hash. */
  KEY_UNWRAP_FAILED,
  /** The sequence number is not newer than one already accepted (replay of an old version). */
  STALE_SEQUENCE,
  /** This version was marked bad locally (rolled back) and is not run again. */
  MARKED_BAD
}
