package io.infraveil.payload.seal;

import static io.infraveil.payload.seal.RecordFormat.NONCE_LENGTH;
import static io.infraveil.payload.seal.RecordFormat.TAG_LENGTH;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.Sha256Hex;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Objects;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;

/**
 * Decrypts payload records (see {@link RecordFormat}) as a stream. A record's plaintext is
 * written only after its tag verified, but a later record may still fail: callers must treat
 * everything written as untrusted until {@code open} returns, and discard it if it throws.
 *
 * <p>Prefer the overload with the expected size (the desired state carries it): with it every
 * cut is reported as {@link RejectionReason#TRUNCATED} and every extra byte as
 * {@link RejectionReason#TRAILING_DATA}. Without it a cut at a record boundary and bytes after
 * a full-size final record are still told apart, but a cut inside a record of 16 bytes or
 * more cannot be told from tampering and is reported as {@link RejectionReason#DECRYPT_FAILED}.
 */
public final class RecordOpener {

  private RecordOpener() {}

  /** Opens a ciphertext whose plaintext size is known in advance. Neither stream is closed. */
  public static OpenResult open(InputStream ciphertext, OutputStream plaintext,
      SecretKey dataKey, byte[] noncePrefix, int recordSize, long expectedPlaintextSize)
      throws IOException, PayloadRejectedException {
    Objects.requireNonNull(ciphertext, "ciphertext");
    Objects.requireNonNull(plaintext, "plaintext");
    RecordFormat.checkDataKey(dataKey);
    byte[] prefix = RecordFormat.checkNoncePrefix(noncePrefix);
    long records = RecordFormat.recordCount(expectedPlaintextSize, recordSize);
    long expectedCiphertext = RecordFormat.ciphertextSize(expectedPlaintextSize, recordSize);

    Cipher cipher = RecordFormat.newCipher();
    MessageDigest sha256 = Sha256Hex.newDigest();
    int recordsPerChunk = recordsPerChunk(recordSize);
    try (HashingPipe pipe = new HashingPipe(sha256, plaintext, recordsPerChunk * recordSize)) {
      try {
        openRecords(ciphertext, cipher, dataKey, prefix, recordSize, recordsPerChunk, records,
            expectedPlaintextSize, expectedCiphertext, pipe);
      } catch (PayloadRejectedException rejected) {
        pipe.finish(); // the records before the bad one are written, as on one thread
        throw rejected;
      }
      return new OpenResult(expectedPlaintextSize, Sha256Hex.format(pipe.finish()));
    }
  }

  /**
   * How many records go to the hashing thread at once: about {@link #CHUNK_BYTES}, so the two
   * threads meet once per chunk instead of once per record (each meeting may wake a thread).
   */
  static int recordsPerChunk(int recordSize) {
    return Math.max(1, CHUNK_BYTES / recordSize);
  }

  /**
   * Plaintext handed to the hashing thread at once (whole records; at least one). 256 KiB:
   * four 64 KiB records, which took about 6 % off the hashing thread's CPU per byte and 14 % off
   * the decrypting one's against one record per hand-over (bench/README.md); the pipe holds
   * four chunks (1 MiB).
   */
  static final int CHUNK_BYTES = 256 * 1024;

  /**
   * The records of a sized open, decrypted here while {@code pipe} hashes and writes the ones
   * before on another core (SHA-256 is the slower of the two: alone it bounds the speed).
   * Records are opened side by side into a chunk, handed over when it is full, at the last
   * record, or just before a rejection (so exactly the records before a bad one are written).
   */
  private static void openRecords(InputStream ciphertext, Cipher cipher, SecretKey dataKey,
      byte[] prefix, int recordSize, int recordsPerChunk, long records,
      long expectedPlaintextSize, long expectedCiphertext, HashingPipe pipe)
      throws IOException, PayloadRejectedException {
    byte[] nonce = new byte[NONCE_LENGTH];
    byte[] sealed = new byte[recordSize + TAG_LENGTH];
    byte[] chunk = null;
    int filled = 0;
    int inChunk = 0;
    long read = 0;
    try {
      for (long index = 0; index < records; index++) {
        boolean last = index == records - 1;
        int length = last
            ? (int) (expectedPlaintextSize - index * recordSize) + TAG_LENGTH
            : recordSize + TAG_LENGTH;
        int got = RecordFormat.readFully(ciphertext, sealed, length);
        read += got;
        if (got < length) {
          throw new PayloadRejectedException(RejectionReason.TRUNCATED,
              "ciphertext ended after " + read + " of " + expectedCiphertext
                  + " bytes, inside or before this record; fetch it again", index, null);
        }
        if (chunk == null) {
          chunk = pipe.buffer();
          filled = 0;
          inChunk = 0;
        }
        int n = RecordFormat.crypt(cipher, Cipher.DECRYPT_MODE, dataKey, prefix, index, last,
            nonce, sealed, length, chunk, filled);
        if (n < 0) {
          throw decryptFailed(index);
        }
        filled += n;
        if (++inChunk == recordsPerChunk || last) {
          pipe.submit(chunk, filled);
          chunk = null;
        }
      }
    } catch (PayloadRejectedException rejected) {
      if (chunk != null && filled > 0) {
        pipe.submit(chunk, filled);
      }
      throw rejected;
    }
    if (ciphertext.read() >= 0) {
      throw new PayloadRejectedException(RejectionReason.TRAILING_DATA,
          "bytes follow the final record; expected exactly " + expectedCiphertext
              + " ciphertext bytes", records - 1, null);
    }
  }

  /**
   * Opens a ciphertext of unknown plaintext size, finding the final record by the end of the
   * stream. Neither stream is closed.
   */
  public static OpenResult open(InputStream ciphertext, OutputStream plaintext,
      SecretKey dataKey, byte[] noncePrefix, int recordSize)
      throws IOException, PayloadRejectedException {
    Objects.requireNonNull(ciphertext, "ciphertext");
    Objects.requireNonNull(plaintext, "plaintext");
    RecordFormat.checkDataKey(dataKey);
    byte[] prefix = RecordFormat.checkNoncePrefix(noncePrefix);
    RecordFormat.checkRecordSize(recordSize);

    Cipher cipher = RecordFormat.newCipher();
    MessageDigest sha256 = Sha256Hex.newDigest();
    int fullRecord = recordSize + TAG_LENGTH;
    byte[] nonce = new byte[NONCE_LENGTH];
    byte[] current = new byte[fullRecord];
    byte[] next = new byte[fullRecord];
    byte[] opened = new byte[recordSize];
    long plaintextSize = 0;

    // Read one record ahead: the record followed by end of stream must carry the final flag.
    int currentLength = RecordFormat.readFully(ciphertext, current, fullRecord);
    for (long index = 0; ; index++) {
      if (index >= RecordFormat.MAX_RECORDS) {
        throw new PayloadRejectedException(RejectionReason.TRAILING_DATA,
            "more records than the format can number", index, null);
      }
      int nextLength = 0;
      boolean last = currentLength < fullRecord
          || (nextLength = RecordFormat.readFully(ciphertext, next, fullRecord)) == 0;
      if (currentLength < TAG_LENGTH) {
        String detail = index == 0 && currentLength == 0
            ? "ciphertext is empty; even an empty payload has one record"
            : "ciphertext ended inside this record (" + currentLength
                + " bytes, less than its " + TAG_LENGTH + "-byte tag); fetch it again";
        throw new PayloadRejectedException(RejectionReason.TRUNCATED, detail, index, null);
      }
      int n = RecordFormat.crypt(cipher, Cipher.DECRYPT_MODE, dataKey, prefix, index, last,
          nonce, current, currentLength, opened);
      if (n < 0) {
        // Only on failure: see whether the record is intact but in the wrong place in the
        // stream, to tell a cut or an appendage from tampering. Nothing from this is written.
        if (currentLength == fullRecord && RecordFormat.crypt(cipher, Cipher.DECRYPT_MODE,
            dataKey, prefix, index, !last, nonce, current, currentLength, opened) >= 0) {
          throw last
              ? new PayloadRejectedException(RejectionReason.TRUNCATED,
                  "ciphertext ended after this record, which is not the final one; fetch it"
                      + " again", index, null)
              : new PayloadRejectedException(RejectionReason.TRAILING_DATA,
                  "bytes follow this record, which is the final one", index, null);
        }
        throw decryptFailed(index);
      }
      sha256.update(opened, 0, n);
      plaintext.write(opened, 0, n);
      plaintextSize += n;
      if (last) {
        return new OpenResult(plaintextSize, Sha256Hex.format(sha256.digest()));
      }
      byte[] swap = current;
      current = next;
      next = swap;
      currentLength = nextLength;
    }
  }

  private static PayloadRejectedException decryptFailed(long index) {
    return new PayloadRejectedException(RejectionReason.DECRYPT_FAILED,
        "record failed AES-GCM authentication: tampered, reordered, cut short, or opened with"
            + " the wrong key", index, null);
  }
}
