package io.infraveil.payload.seal;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * The payload record format (AES-256-GCM in the STREAM construction). The plaintext is cut
 * into records of {@code recordSize} bytes; record {@code i} is sealed with the nonce
 * {@code prefix(7) || i as uint32 big-endian (4) || last(1)} and the associated data
 * {@code "infraveil-payload-v1"}. The index in the nonce detects reordering and duplication,
 * the last flag detects truncation at a record boundary. Records are at most 64 KiB because
 * the JDK's GCM is fast only on small buffers.
 */
public final class RecordFormat {

  public static final int NONCE_PREFIX_LENGTH = 7;
  public static final int NONCE_LENGTH = 12;
  public static final int TAG_LENGTH = 16;
  public static final int DEFAULT_RECORD_SIZE = 65536;
  public static final int MAX_RECORD_SIZE = 65536;
  /** The index is a 32-bit field in the nonce. */
  public static final long MAX_RECORDS = 1L << 32;
  /** Associated data of every record; names the format version. */
  public static final String AAD = "infraveil-payload-v1";

  private static final byte[] AAD_BYTES = AAD.getBytes(US_ASCII);

  private RecordFormat() {}

  /** Number of records for a plaintext; an empty plaintext still has one (final) record. */
  public static long recordCount(long plaintextSize, int recordSize) {
    checkRecordSize(recordSize);
    if (plaintextSize < 0) {
      throw new IllegalArgumentException("plaintextSize must be >= 0, got " + plaintextSize);
    }
    long records = plaintextSize == 0 ? 1 : (plaintextSize - 1) / recordSize + 1;
    if (records > MAX_RECORDS) {
      throw new IllegalArgumentException("plaintextSize " + plaintextSize + " needs " + records
          + " records of " + recordSize + " bytes; at most " + MAX_RECORDS + " fit the format");
    }
    return records;
  }

  /**
   * Exact ciphertext length for a plaintext: the plaintext plus one tag per record. Lets a
   * resumed download know where records start and when it is complete.
   */
  public static long ciphertextSize(long plaintextSize, int recordSize) {
    return plaintextSize + recordCount(plaintextSize, recordSize) * TAG_LENGTH;
  }

  /** A fresh random nonce prefix; use a new one (and a new data key) for every payload. */
  public static byte[] newNoncePrefix(SecureRandom random) {
    Objects.requireNonNull(random, "random");
    byte[] prefix = new byte[NONCE_PREFIX_LENGTH];
    random.nextBytes(prefix);
    return prefix;
  }

  static int checkRecordSize(int recordSize) {
    if (recordSize < 1 || recordSize > MAX_RECORD_SIZE) {
      throw new IllegalArgumentException(
          "recordSize must be between 1 and " + MAX_RECORD_SIZE + " bytes, got " + recordSize);
    }
    return recordSize;
  }

  static byte[] checkNoncePrefix(byte[] noncePrefix) {
    Objects.requireNonNull(noncePrefix, "noncePrefix");
    if (noncePrefix.length != NONCE_PREFIX_LENGTH) {
      throw new IllegalArgumentException("noncePrefix must be " + NONCE_PREFIX_LENGTH
          + " bytes, got " + noncePrefix.length);
    }
    return noncePrefix.clone();
  }

  static SecretKey checkDataKey(SecretKey dataKey) {
    Objects.requireNonNull(dataKey, "dataKey");
    if (!"AES".equalsIgnoreCase(dataKey.getAlgorithm())) {
      throw new IllegalArgumentException(
          "dataKey must be an AES key, got " + dataKey.getAlgorithm());
    }
    byte[] encoded = dataKey.getEncoded();
    if (encoded != null && encoded.length != 32) {
      throw new IllegalArgumentException(
          "dataKey must be AES-256 (32 bytes), got " + encoded.length + " bytes");
    }
    return dataKey;
  }

  static Cipher newCipher() {
    try {
      return Cipher.getInstance("AES/GCM/NoPadding");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no AES/GCM/NoPadding", e);
    }
  }

  /**
   * Seals or opens one whole record into {@code out}; returns the bytes written, or -1 when
   * the tag did not verify. GCM's doFinal releases plaintext only after the tag checked.
   */
  static int crypt(Cipher cipher, int mode, SecretKey key, byte[] prefix, long index,
      boolean last, byte[] nonce, byte[] in, int length, byte[] out) {
    return crypt(cipher, mode, key, prefix, index, last, nonce, in, length, out, 0);
  }

  /** As above, writing from {@code out[outOffset]} (records opened side by side in one chunk). */
  static int crypt(Cipher cipher, int mode, SecretKey key, byte[] prefix, long index,
      boolean last, byte[] nonce, byte[] in, int length, byte[] out, int outOffset) {
    System.arraycopy(prefix, 0, nonce, 0, NONCE_PREFIX_LENGTH);
    nonce[7] = (byte) (index >>> 24);
    nonce[8] = (byte) (index >>> 16);
    nonce[9] = (byte) (index >>> 8);
    nonce[10] = (byte) index;
    nonce[11] = (byte) (last ? 1 : 0);
    try {
      cipher.init(mode, key, new GCMParameterSpec(TAG_LENGTH * 8, nonce));
      cipher.updateAAD(AAD_BYTES);
      return cipher.doFinal(in, 0, length, out, outOffset);
    } catch (AEADBadTagException e) {
      return -1;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("AES-GCM refused the data key or record: " + e, e);
    }
  }

  /** Reads until {@code length} bytes or end of stream; returns the count read. */
  static int readFully(InputStream in, byte[] buffer, int length) throws IOException {
    int total = 0;
    while (total < length) {
      int n = in.read(buffer, total, length - total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }
}
