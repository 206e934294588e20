package io.infraveil.payload.seal;

import static io.infraveil.payload.seal.RecordFormat.MAX_RECORDS;
import static io.infraveil.payload.seal.RecordFormat.NONCE_LENGTH;
import static io.infraveil.payload.seal.RecordFormat.TAG_LENGTH;

import io.infraveil.payload.Sha256Hex;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Objects;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;

/** Encrypts a plaintext stream into payload records (see {@link RecordFormat}). */
public final class RecordSealer {

  private RecordSealer() {}

  /**
   * Seals all of {@code plaintext} into {@code ciphertext} and hashes the plaintext on the
   * way. Neither stream is closed. Never reuse a (dataKey, noncePrefix) pair: GCM loses
   * confidentiality and integrity when a nonce repeats under one key.
   */
  public static SealResult seal(InputStream plaintext, OutputStream ciphertext,
      SecretKey dataKey, byte[] noncePrefix, int recordSize) throws IOException {
    Objects.requireNonNull(plaintext, "plaintext");
    Objects.requireNonNull(ciphertext, "ciphertext");
    RecordFormat.checkDataKey(dataKey);
    byte[] prefix = RecordFormat.checkNoncePrefix(noncePrefix);
    RecordFormat.checkRecordSize(recordSize);

    Cipher cipher = RecordFormat.newCipher();
    MessageDigest sha256 = Sha256Hex.newDigest();
    byte[] nonce = new byte[NONCE_LENGTH];
    byte[] current = new byte[recordSize];
    byte[] next = new byte[recordSize];
    byte[] sealed = new byte[recordSize + TAG_LENGTH];
    long plaintextSize = 0;
    long ciphertextSize = 0;

    // Read one record ahead: a record is final exactly when nothing follows it.
    int currentLength = RecordFormat.readFully(plaintext, current, recordSize);
    for (long index = 0; ; index++) {
      int nextLength = 0;
      boolean last = currentLength < recordSize
          || (nextLength = RecordFormat.readFully(plaintext, next, recordSize)) == 0;
      if (index >= MAX_RECORDS) {
        throw new IOException("plaintext is too large for the payload format: more than "
            + MAX_RECORDS + " records of " + recordSize + " bytes");
      }
      sha256.update(current, 0, currentLength);
      int n = RecordFormat.crypt(cipher, Cipher.ENCRYPT_MODE, dataKey, prefix, index, last,
          nonce, current, currentLength, sealed);
      ciphertext.write(sealed, 0, n);
      plaintextSize += currentLength;
      ciphertextSize += n;
      if (last) {
        break;
      }
      byte[] swap = current;
      current = next;
      next = swap;
      currentLength = nextLength;
    }
    return new SealResult(plaintextSize, ciphertextSize, Sha256Hex.format(sha256.digest()));
  }
}
